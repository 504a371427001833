#pragma once
// One timer for every streaming channel: it counts ticks, and each tick lets every channel decide whether it
// owes a heartbeat (SSE comment, WebSocket ping) or has heard nothing for too long (a dead peer). Channels
// stamp activity with the tick count, an integer, so the hot path reads no clock.
//
// The channels of the server's registry are ticked through it: the loop's one list of its channels, so that a
// connection needs no entry of its own here (a weak_ptr, 16 bytes and more as the list grows). A streaming
// channel outside the registry (the admin page's) is watched on its own.

#include "core/channel_registry.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace switchboard::detail {

class ticking {
public:
    /// Called once per tick; returns false when the channel no longer needs ticks (it is closing).
    virtual bool on_tick(std::uint64_t now) = 0;

protected:
    ~ticking() = default;
};

class keepalive {
public:
    keepalive(boost::asio::any_io_executor ex, std::chrono::milliseconds period, channel_registry const& registry);

    /// Ticks `t`, a channel outside the registry, from now on, while it is alive and wants ticks.
    void watch(std::weak_ptr<ticking> t);
    /// Runs the timer if it is not running. Every registered channel that is a `ticking` is ticked, whatever
    /// its on_tick() answers, for as long as it is registered; the timer runs while any channel is.
    void wake();
    void stop();

    std::uint64_t now() const noexcept { return tick_; }
    std::chrono::milliseconds period() const noexcept { return period_; }
    /// How many ticks make up `d` (at least one).
    std::uint64_t ticks(std::chrono::milliseconds d) const noexcept;

private:
    void schedule();

    boost::asio::steady_timer timer_;
    std::chrono::milliseconds period_;
    channel_registry const& registry_;
    std::vector<std::weak_ptr<ticking>> watched_;
    std::uint64_t tick_ = 0;
    bool running_ = false;
    bool stopped_ = false;
};

}  // namespace switchboard::detail
