#include "support/stalled_client.hpp"

#include <boost/asio/write.hpp>

namespace switchboard::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::shared_ptr<stalled_client> stalled_client::connect(asio::io_context& ioc, std::uint16_t port, int receive_buffer)
{
    auto c = std::shared_ptr<stalled_client>(new stalled_client(ioc));
    boost::system::error_code ec;
    c->socket_.open(tcp::v4(), ec);
    // Before connecting, so the window the server sees is small from the start.
    c->socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
    c->socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    c->failed_ = static_cast<bool>(ec);
    return c;
}

void stalled_client::send(std::string bytes)
{
    if (failed_)
        return;
    writes_.push_back(std::move(bytes));
    if (!writing_)
        do_write();
}

void stalled_client::do_write()
{
    writing_ = true;
    asio::async_write(socket_, asio::buffer(writes_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                          self->writing_ = false;
                          self->written_ += n;
                          if (ec) {
                              self->failed_ = true;
                              self->writes_.clear();
                              return;
                          }
                          self->writes_.pop_front();
                          if (!self->writes_.empty())
                              self->do_write();
                      });
}

void stalled_client::close()
{
    boost::system::error_code ec;
    socket_.close(ec);
}

}  // namespace switchboard::test
