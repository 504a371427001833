#pragma once
// One timer for every streaming channel: it counts ticks, and each tick lets every channel decide whether it
// owes a heartbeat (SSE comment, WebSocket ping) or has heard nothing for too long (a dead peer). Channels
// stamp activity with the tick count, an integer, so the hot path reads no clock.

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
    keepalive(boost::asio::any_io_executor ex, std::chrono::milliseconds period);

    /// Ticks `t` from now on, while it is alive and wants ticks.
    void watch(std::weak_ptr<ticking> t);
    void stop();

    std::uint64_t now() const noexcept { return tick_; }
    std::chrono::milliseconds period() const noexcept { return period_; }
    /// How many ticks make up `d` (at least one).
    std::uint64_t ticks(std::chrono::milliseconds d) const noexcept;

private:
    void schedule();

    boost::asio::steady_timer timer_;
    std::chrono::milliseconds period_;
    std::vector<std::weak_ptr<ticking>> watched_;
    std::uint64_t tick_ = 0;
    bool running_ = false;
    bool stopped_ = false;
};

}  // namespace switchboard::detail
