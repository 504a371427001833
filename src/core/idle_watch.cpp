#include "core/idle_watch.hpp"

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace switchboard::detail {
namespace {

// Wakes handled per epoll_wait: more stay ready (level-triggered) and come with the next wait.
constexpr int wakes_per_wait = 64;

}  // namespace

idle_watch& idle_watch::of(boost::asio::execution_context& context)
{
    return boost::asio::use_service<idle_watch>(context);
}

idle_watch::idle_watch(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context),
      set_(static_cast<boost::asio::io_context&>(context))  // every loop of a server is an io_context
{
    int const fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
        spdlog::warn("idle connections wait in Asio: epoll_create1 failed: {}", std::strerror(errno));
        return;
    }
    boost::system::error_code ec;
    set_.assign(fd, ec);
    if (ec) {
        ::close(fd);
        spdlog::warn("idle connections wait in Asio: {}", ec.message());
    }
}

idle_watch::~idle_watch() = default;

void idle_watch::shutdown()
{
    // The context is going: its handlers are destroyed, and connections with them, which unpark() here still.
    boost::system::error_code ignored;
    set_.close(ignored);
}

bool idle_watch::park(int fd, sleeper& s)
{
    if (!set_.is_open())
        return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;  // EPOLLHUP and EPOLLERR are always reported
    ev.data.ptr = &s;
    if (::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0)
        return false;
    ++parked_;
    wait();
    return true;
}

void idle_watch::unpark(int fd, sleeper& s) noexcept
{
    --parked_;
    std::replace(ready_.begin(), ready_.end(), &s, static_cast<sleeper*>(nullptr));
    if (!set_.is_open())
        return;
    epoll_event ignored{};
    ::epoll_ctl(set_.native_handle(), EPOLL_CTL_DEL, fd, &ignored);
    if (parked_ == 0 && waiting_) {
        // Nobody left to wake: a wait pending on an empty set would keep the loop from running dry (a server
        // stopped on a caller's io_context).
        boost::system::error_code ignored_ec;
        set_.cancel(ignored_ec);
    }
}

void idle_watch::wait()
{
    if (waiting_ || parked_ == 0 || !set_.is_open())
        return;
    waiting_ = true;
    // A service lives until its context is destroyed, after its handlers: `this` outlives the wait.
    set_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
        waiting_ = false;
        if (ec == boost::asio::error::operation_aborted) {
            wait();  // cancelled when the set emptied: someone may have parked since
            return;
        }
        if (ec) {
            spdlog::error("idle watch: {}", ec.message());
            return;
        }
        on_ready();
    });
}

void idle_watch::on_ready()
{
    std::array<epoll_event, wakes_per_wait> events;
    int const n = ::epoll_wait(set_.native_handle(), events.data(), wakes_per_wait, 0);
    ready_.clear();
    for (int i = 0; i < n; ++i)
        ready_.push_back(static_cast<sleeper*>(events[i].data.ptr));
    for (std::size_t i = 0; i < ready_.size(); ++i)
        if (auto* s = std::exchange(ready_[i], nullptr))
            s->woken();
    ready_.clear();
    wait();
}

}  // namespace switchboard::detail
