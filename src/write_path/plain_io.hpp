#pragma once
// Plain TCP under a push_channel: one non-blocking sendmsg hands the whole outbox to the kernel (up to a batch
// of blocks per call), waiting for writability only when the kernel's buffer is full. In the loop turn's flush
// that sendmsg joins the loop's send_batch (one system call for every connection's) where io_uring is there. Reading waits for
// readability first and then reads into a per-thread scratch buffer, so an idle connection holds no read buffer
// and has one small operation pending.

#include "write_path/channel_io.hpp"
#include "write_path/send_batch.hpp"

namespace switchboard::detail {

class plain_io final : public channel_io, public batched_sender {
public:
    /// `batch`: the loop's send batch, or null (each flush sends by itself).
    plain_io(boost::asio::ip::tcp::socket socket, io_owner& owner, send_batch* batch);

    boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
    void close() noexcept override
    {
        boost::system::error_code ignored;
        socket().close(ignored);
    }
    void start_reading() override;
    void flush() override;
    void shut_down() override;

private:
    std::shared_ptr<plain_io> self();
    void on_readable(boost::system::error_code ec);
    void wait_writable();
    void send_now();
    void on_batch_sent(ssize_t result) override;
    /// A send's result (bytes, or -errno as sendmsg sets errno); false when the io must stop sending for now.
    bool took(ssize_t result);

    io_owner& owner_;
    boost::asio::ip::tcp::socket socket_;
    send_batch* batch_;
    bool waiting_writable_ = false;
    bool in_batch_ = false;  // a send of this connection waits in the batch
};

}  // namespace switchboard::detail
