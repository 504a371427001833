#include "core/interest_linger.hpp"

#include <utility>

namespace switchboard::detail {

interest_linger::interest_linger(boost::asio::any_io_executor ex, std::chrono::milliseconds period,
                                 std::size_t max_names, release_handler release)
    : timer_(std::move(ex)), period_(period), max_names_(max_names), release_(std::move(release))
{
}

bool interest_linger::take_back(std::string_view name)
{
    if (auto it = young_.find(name); it != young_.end()) {
        young_.erase(it);
        return true;
    }
    if (auto it = old_.find(name); it != old_.end()) {
        old_.erase(it);
        return true;
    }
    return false;
}

void interest_linger::let_go(std::string const& name)
{
    if (stopped_ || period_.count() == 0 || size() >= max_names_)
        return release_(name);
    young_.insert(name);
    if (!armed_)
        arm();
}

void interest_linger::arm()
{
    armed_ = true;
    timer_.expires_after(period_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            tick();
    });
}

void interest_linger::tick()
{
    armed_ = false;
    auto released = std::move(old_);
    old_ = std::move(young_);
    young_ = {};
    if (!old_.empty())
        arm();
    for (auto const& name : released)
        release_(name);
}

void interest_linger::stop()
{
    stopped_ = true;
    timer_.cancel();
    armed_ = false;
    auto released = std::move(old_);
    released.merge(young_);
    old_ = {};
    young_ = {};
    for (auto const& name : released)
        release_(name);
}

}  // namespace switchboard::detail
