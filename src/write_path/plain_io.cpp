#include "write_path/plain_io.hpp"

#include "core/exact_allocation.hpp"

#include <boost/asio/socket_base.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <utility>

namespace switchboard::detail {
namespace {

// Enough blocks per sendmsg to empty a busy queue in a few calls; IOV_MAX is 1024 on Linux.
constexpr std::size_t iov_batch = 256;

boost::asio::io_context::executor_type loop_of(boost::asio::ip::tcp::socket& socket)
{
    auto const* ex = socket.get_executor().target<boost::asio::io_context::executor_type>();
    if (!ex)
        throw std::logic_error("a server's sockets run on an io_context");
    return *ex;
}

}  // namespace

plain_io::plain_io(boost::asio::ip::tcp::socket socket, io_owner& owner)
    : owner_(owner), socket_(std::make_unique<socket_type>(loop_of(socket)))
{
    // Moved by its descriptor: Asio moves a socket only to an executor type the source's converts to.
    boost::system::error_code ec;
    auto const local = socket.local_endpoint(ec);
    v6_ = !ec && local.address().is_v6();
    int const fd = socket.release(ec);
    if (ec)
        return;  // closed: the first wait fails, and the channel learns it (lost)
    adopt(fd, false);
}

plain_io::~plain_io()
{
    if (parked_ >= 0)
        owner_.plain_loop().watch->discard(parked_, *this);
}

void plain_io::close() noexcept
{
    if (parked_ >= 0) {
        owner_.plain_loop().watch->discard(std::exchange(parked_, -1), *this);
        return;
    }
    boost::system::error_code ignored;
    if (socket_)
        socket_->close(ignored);
}

std::shared_ptr<plain_io> plain_io::self()
{
    // Shares the owner's lifetime: the owner owns this io.
    return {owner_.keep(), this};
}

void plain_io::flush()
{
    if (waiting_writable_ || in_batch_ || !is_open())
        return;
    // A queue longer than one batched send takes (a burst, or a subscriber behind) goes in one sendmsg of up to
    // iov_batch blocks: through the batch it would cost the entry and a sendmsg for the rest.
    auto const frames = owner_.outbox().frames();
    auto* const batch = owner_.plain_loop().batch;
    if (batch && batch->collecting() && frames > 0 && frames <= send_batch::max_blocks) {
        in_batch_ = true;
        return batch->add(descriptor(), owner_.outbox(), self());
    }
    send_now();
}

void plain_io::on_batch_sent(ssize_t result)
{
    in_batch_ = false;
    if (!is_open())
        return;
    if (took(result))
        send_now();  // the rest, if the batch's send did not take it all
}

void plain_io::send_now()
{
    auto& queue = owner_.outbox();
    std::array<iovec, iov_batch> iov;
    while (!queue.empty()) {
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = queue.gather(iov.data(), iov.size());
        ssize_t const n = ::sendmsg(descriptor(), &msg, MSG_NOSIGNAL);
        if (!took(n < 0 ? -errno : n))
            return;
    }
    owner_.drained();
}

bool plain_io::took(ssize_t result)
{
    if (result == -EINTR)
        return true;
    if (result == -EAGAIN || result == -EWOULDBLOCK) {
        wait_writable();
        return false;
    }
    if (result < 0) {
        owner_.lost({static_cast<int>(-result), boost::system::system_category()});
        return false;
    }
    auto& queue = owner_.outbox();
    queue.consume(static_cast<std::size_t>(result));
    owner_.sent(static_cast<std::size_t>(result));
    owner_.made_room();
    return is_open();
}

void plain_io::wait_writable()
{
    if (!unpark())
        return;
    waiting_writable_ = true;
    socket_->async_wait(boost::asio::socket_base::wait_write, [self = self()](boost::system::error_code ec) {
        self->waiting_writable_ = false;
        if (ec)
            return self->owner_.lost(ec);
        self->send_now();
    });
}

void plain_io::start_reading()
{
    if (parked_ >= 0)
        return;  // the idle watch waits for the input already
    reading_ = true;
    // An idle connection's one pending operation: allocated at its own size (exact_allocation), not in a
    // recycled block sized for the largest operation the loop ran lately.
    socket_->async_wait(boost::asio::socket_base::wait_read,
                       exact_allocation([self = self(), wait = ++read_wait_](boost::system::error_code ec) {
                           if (wait == self->read_wait_)
                               self->on_readable(ec);
                       }));
}

void plain_io::on_readable(boost::system::error_code ec)
{
    reading_ = false;
    if (ec)
        return owner_.lost(ec);
    auto& buffer = read_scratch();
    // Bounded: one 64 KiB read per wake-up, so one chatty client cannot starve the loop.
    std::size_t const n = socket_->read_some(boost::asio::buffer(buffer), ec);
    if (ec == boost::asio::error::would_block)
        return start_reading();
    if (ec)
        return owner_.lost(ec);
    owner_.received({buffer.data(), n});
    if (is_open())  // what it received may have closed it
        start_reading();
}

void plain_io::rest()
{
    // Only a connection whose one pending operation is its read wait: none while a write waits or is batched.
    auto* const watch = owner_.plain_loop().watch;
    if (!watch || !reading_ || waiting_writable_ || in_batch_ || !is_open())
        return;
    boost::system::error_code ec;
    int const fd = socket_->release(ec);  // frees Asio's reactor entry; the read wait completes, stale
    if (ec)
        return;
    ++read_wait_;
    reading_ = false;
    if (!watch->park(fd, *this)) {
        adopt(fd, true);  // the watch cannot take it: it waits in Asio as before
        return;
    }
    parked_ = fd;
    socket_.reset();
}

void plain_io::woken()
{
    // Input, or the peer's end: back into Asio, whose read wait sees it at once (epoll reports it again there).
    auto keep = self();
    unpark();
}

bool plain_io::unpark()
{
    if (parked_ < 0)
        return true;
    int const fd = std::exchange(parked_, -1);
    owner_.plain_loop().watch->unpark(fd, *this);
    return adopt(fd, true);
}

bool plain_io::adopt(int fd, bool read)
{
    boost::system::error_code ec;
    if (!socket_)
        socket_ = std::make_unique<socket_type>(owner_.plain_loop().watch->loop().get_executor());
    if (!idle_watch::take_back(*socket_, v6_, fd, ec)) {
        if (read)
            owner_.lost(ec);
        return false;
    }
    if (read)
        start_reading();
    return true;
}

void plain_io::shut_down()
{
    // The read side keeps waiting (in Asio or parked), to see the peer's EOF.
    if (::shutdown(descriptor(), SHUT_WR) != 0)
        owner_.lost({errno, boost::system::system_category()});
}

}  // namespace switchboard::detail
