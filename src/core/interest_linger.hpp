#pragma once
// Keeps this node following a topic (or a pattern) a while after its last local subscriber left. A long poll
// leaves its topic with every answer and is back with its next request; so is a page reloaded, or a client
// that reconnects. Unsubscribing from the backplane at once would cost every such return an unsubscribe and a
// subscribe (two broker round trips with Redis or NATS, and a history read that must wait for the
// subscription), and the node's stream of the topic would start over. Lingering, the backplane's subscription
// and the node's stream go on, and the returning subscriber only reads what it missed.
//
// Two generations and one timer: a name let go joins the young one; each tick releases the old one and ages
// the young one. So a name is released between one and two periods after it was let go, unless it is taken
// back first. Bounded: past max_names lingering, a name let go is released at once. The timer runs only while
// something lingers, so an idle loop can run dry. Loop thread only.

#include <switchboard/detail/string_hash.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_set>

namespace switchboard::detail {

class interest_linger {
public:
    /// Unsubscribes the backplane from a name.
    using release_handler = std::function<void(std::string const&)>;

    /// `period` 0 releases every name at once (no lingering).
    interest_linger(boost::asio::any_io_executor ex, std::chrono::milliseconds period, std::size_t max_names,
                    release_handler release);

    /// A local subscriber wants `name` again. True when it was lingering: the backplane still follows it, and
    /// must not be told to subscribe again.
    bool take_back(std::string_view name);
    /// The last local subscriber of `name` left.
    void let_go(std::string const& name);
    /// Releases every lingering name now, and every name let go from now on at once (the server stopping).
    void stop();

    std::size_t size() const noexcept { return young_.size() + old_.size(); }

private:
    void arm();
    void tick();

    using name_set = std::unordered_set<std::string, string_hash, std::equal_to<>>;

    boost::asio::steady_timer timer_;
    std::chrono::milliseconds period_;
    std::size_t max_names_;
    release_handler release_;
    name_set young_;  // let go since the last tick
    name_set old_;    // let go before it: released at the next tick
    bool armed_ = false;
    bool stopped_ = false;
};

}  // namespace switchboard::detail
