#pragma once
// Subscribing a channel to a topic when the history may answer after live messages arrive (a backplane on
// the network, such as Redis).
//
// A stand-in subscriber takes the channel's place in the hub at once and holds what this node delivers. When
// the history is in and the node's own stream has reached the history's position, the channel takes the
// stand-in's place and gets the history's first page, its position, and what the stand-in held after that
// position: nothing missed (the stand-in was there before the history was read; the rest of the history is
// the channel's to read, a page at a time for a stream, with the next poll for long polling) and nothing twice
// (held messages at or below the history's position are dropped). With a backplane that answers at once
// (memory) the hand-over happens inside start(); on a topic the node follows already, there is no stand-in at
// all (start_on_live_topic).
//
// Loop thread only.

#include <switchboard/backplane.hpp>
#include <switchboard/channel.hpp>

#include <boost/asio/steady_timer.hpp>

#include <optional>
#include <string>
#include <vector>

namespace switchboard::detail {

class subscribe_queue;

class topic_join final : public channel {
public:
    /// Subscribes `target` to `topic` (which it is not subscribed to) and reads its history after `since` (a
    /// first page of `max_bytes`, see backplane::history); `done` gets the history (and the subscription is
    /// made) or an error (and it is not). Returns the join, to call it off; it may be over already, or null
    /// when `done` was called without one.
    static std::shared_ptr<topic_join> start(subscribe_queue& joins, channel& target, std::string const& topic,
                                             std::optional<position> const& since, std::size_t max_bytes,
                                             backplane::history_handler done);

    topic_join(subscribe_queue& joins, channel& target, std::string const& topic, backplane::history_handler done);

    std::string_view transport() const noexcept override { return "join"; }
    delivery_status deliver(message_ptr const& m) override;
    /// The topic's subscribers are being closed (a gap): the target is closed with the same reason.
    void close(disconnect const& reason) override;
    /// Calls the join off (the client unsubscribed, or closed): it leaves, and `done` is never called.
    void cancel();

private:
    /// start() for a topic the node follows already: no stand-in when the history answers at once.
    static std::shared_ptr<topic_join> start_on_live_topic(subscribe_queue& joins, channel& target,
                                                           std::string const& topic,
                                                           std::optional<position> const& since,
                                                           std::size_t max_bytes, backplane::history_handler done);
    void on_history(boost::system::error_code ec, history_result r);
    void try_finish();
    void finish();
    void fail(boost::system::error_code ec);
    void release_held();
    void leave();

    subscribe_queue& joins_;
    std::weak_ptr<channel> target_;
    std::string topic_;
    backplane::history_handler done_;
    std::optional<history_result> history_;
    std::vector<message_ptr> held_;
    boost::asio::steady_timer deadline_;
    bool over_ = false;
};

}  // namespace switchboard::detail
