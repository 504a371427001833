#pragma once
// Plain TCP under a push_channel: one non-blocking sendmsg hands the whole outbox to the kernel (up to a batch
// of blocks per call), waiting for writability only when the kernel's buffer is full. Reading waits for
// readability first and then reads into a per-thread scratch buffer, so an idle connection holds no read buffer
// and has one small operation pending.

#include "write_path/channel_io.hpp"

namespace switchboard::detail {

class plain_io final : public channel_io {
public:
    plain_io(boost::asio::ip::tcp::socket socket, io_owner& owner);

    boost::asio::ip::tcp::socket& socket() noexcept override { return socket_; }
    void start_reading() override;
    void flush() override;
    void shut_down() override;

private:
    std::shared_ptr<plain_io> self();
    void on_readable(boost::system::error_code ec);
    void wait_writable();

    io_owner& owner_;
    boost::asio::ip::tcp::socket socket_;
    bool waiting_writable_ = false;
};

}  // namespace switchboard::detail
