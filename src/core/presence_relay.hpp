#pragma once
// How one loop's presence events go from its backplane to its hub (docs/protocol.md, "Presence at scale"): each
// as it comes; batched into one diff per topic and batch interval; or, for a topic whose last fan-out reached
// more than max_event_members listeners here, not at all: its listeners get the topic's counts instead, at most
// every counts_interval while members come and go. A member costs every listener one delivery per event, so
// without the bound a room filling up costs the square of its size.
//
// Thread-safety: the loop thread only, as the hub and the backplane's handlers.

#include "core/presence_batch.hpp"

#include <switchboard/backplane.hpp>
#include <switchboard/hub.hpp>
#include <switchboard/server_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <set>
#include <string>

namespace switchboard::detail {

class presence_relay {
public:
    /// `options` is read at each event, so a reload's values apply from the next one.
    presence_relay(boost::asio::any_io_executor ex, presence_options const& options, hub& h, backplane& bp);
    ~presence_relay();
    presence_relay(presence_relay const&) = delete;
    presence_relay& operator=(presence_relay const&) = delete;

    /// A join or a leave from the backplane.
    void relay(presence_event_ptr const& e);
    /// The server stops: every channel is closed, so what waits is for nobody; later events are dropped. Leaves
    /// no timer behind, so the loop can run dry.
    void stop();

private:
    /// Counts will be sent for `topic` at the end of the current counts interval (one begins if none runs).
    void counts_due(std::string const& topic);
    void flush_batches();
    void send_counts();

    presence_options const& options_;
    hub& hub_;
    backplane& bp_;
    presence_batch batch_;
    std::set<std::string> counts_due_;  // topics over the bound whose members changed since their last counts
    boost::asio::steady_timer batch_timer_;
    boost::asio::steady_timer counts_timer_;
    bool batch_armed_ = false;
    bool stopped_ = false;
    // Counts answered after the relay is gone (a Redis reply at shutdown) find it expired.
    std::shared_ptr<presence_relay*> self_ = std::make_shared<presence_relay*>(this);
};

}  // namespace switchboard::detail
