#include "write_path/keepalive.hpp"

#include <algorithm>

namespace switchboard::detail {

keepalive::keepalive(boost::asio::any_io_executor ex, std::chrono::milliseconds period,
                     channel_registry const& registry)
    : timer_(std::move(ex)), period_(std::max(period, std::chrono::milliseconds(10))), registry_(registry)
{
}

std::uint64_t keepalive::ticks(std::chrono::milliseconds d) const noexcept
{
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>((d + period_ - std::chrono::milliseconds(1)) / period_));
}

void keepalive::watch(std::weak_ptr<ticking> t)
{
    if (stopped_)
        return;
    watched_.push_back(std::move(t));
    wake();
}

void keepalive::wake()
{
    if (!running_ && !stopped_)
        schedule();
}

void keepalive::stop()
{
    stopped_ = true;
    timer_.cancel();
    watched_.clear();
}

void keepalive::schedule()
{
    // The timer runs only while something is watched, so an idle server's loop can run dry.
    running_ = true;
    timer_.expires_after(period_);
    timer_.async_wait([this](boost::system::error_code ec) {
        running_ = false;
        if (ec || stopped_)
            return;
        ++tick_;
        // From the end: a channel that closes in its tick leaves the registry, and the last one (ticked
        // already) takes its place. Each is held while it is ticked, since that may be its last owner letting go.
        for (auto i = registry_.size(); i-- > 0;) {
            if (i >= registry_.size())
                continue;  // a tick closed several
            auto const ch = *(registry_.begin() + static_cast<std::ptrdiff_t>(i));
            if (auto* t = dynamic_cast<ticking*>(ch.get()))
                t->on_tick(tick_);
        }
        std::erase_if(watched_, [this](std::weak_ptr<ticking> const& w) {
            auto t = w.lock();
            return !t || !t->on_tick(tick_);
        });
        if (!watched_.empty() || registry_.size() > 0)
            schedule();
    });
}

}  // namespace switchboard::detail
