#include "write_path/plain_io.hpp"

#include "core/exact_allocation.hpp"

#include <boost/asio/socket_base.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>

namespace switchboard::detail {
namespace {

// Enough blocks per sendmsg to empty a busy queue in a few calls; IOV_MAX is 1024 on Linux.
constexpr std::size_t iov_batch = 256;

}  // namespace

plain_io::plain_io(boost::asio::ip::tcp::socket socket, io_owner& owner, send_batch* batch)
    : owner_(owner), socket_(std::move(socket)), batch_(batch)
{
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
}

std::shared_ptr<plain_io> plain_io::self()
{
    // Shares the owner's lifetime: the owner owns this io.
    return {owner_.keep(), this};
}

void plain_io::flush()
{
    if (waiting_writable_ || in_batch_ || !socket_.is_open())
        return;
    // A queue longer than one batched send takes (a burst, or a subscriber behind) goes in one sendmsg of up to
    // iov_batch blocks: through the batch it would cost the entry and a sendmsg for the rest.
    auto const frames = owner_.outbox().frames();
    if (batch_ && batch_->collecting() && frames > 0 && frames <= send_batch::max_blocks) {
        in_batch_ = true;
        return batch_->add(socket_.native_handle(), owner_.outbox(), self());
    }
    send_now();
}

void plain_io::on_batch_sent(ssize_t result)
{
    in_batch_ = false;
    if (!socket_.is_open())
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
        ssize_t const n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
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
    return socket_.is_open();
}

void plain_io::wait_writable()
{
    waiting_writable_ = true;
    socket_.async_wait(boost::asio::socket_base::wait_write, [self = self()](boost::system::error_code ec) {
        self->waiting_writable_ = false;
        if (ec)
            return self->owner_.lost(ec);
        self->send_now();
    });
}

void plain_io::start_reading()
{
    // An idle connection's one pending operation: allocated at its own size (exact_allocation), not in a
    // recycled block sized for the largest operation the loop ran lately.
    socket_.async_wait(boost::asio::socket_base::wait_read,
                       exact_allocation([self = self()](boost::system::error_code ec) { self->on_readable(ec); }));
}

void plain_io::on_readable(boost::system::error_code ec)
{
    if (ec)
        return owner_.lost(ec);
    auto& buffer = read_scratch();
    // Bounded: one 64 KiB read per wake-up, so one chatty client cannot starve the loop.
    std::size_t const n = socket_.read_some(boost::asio::buffer(buffer), ec);
    if (ec == boost::asio::error::would_block)
        return start_reading();
    if (ec)
        return owner_.lost(ec);
    owner_.received({buffer.data(), n});
    if (socket_.is_open())
        start_reading();
}

void plain_io::shut_down()
{
    // The read side keeps waiting, to see the peer's EOF.
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    if (ec)
        owner_.lost(ec);
}

}  // namespace switchboard::detail
