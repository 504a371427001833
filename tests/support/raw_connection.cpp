#include "support/raw_connection.hpp"

#include "support/run_until.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>

namespace switchboard::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;

struct raw_connection::state : std::enable_shared_from_this<state> {
    explicit state(asio::io_context& ioc) : socket(ioc) {}

    void read()
    {
        socket.async_read_some(asio::buffer(chunk), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            self->received.append(self->chunk.data(), n);
            if (ec) {
                self->ended = true;
                return;
            }
            self->read();
        });
    }

    asio::ip::tcp::socket socket;
    std::array<char, 16 * 1024> chunk{};
    std::string received;
    bool ended = false;
};

raw_connection::raw_connection(asio::io_context& ioc, std::uint16_t port, std::string_view source)
    : ioc_(ioc), state_(std::make_shared<state>(ioc))
{
    auto& s = state_->socket;
    s.open(asio::ip::tcp::v4());
    if (!source.empty())
        s.bind({asio::ip::make_address(std::string(source)), 0});
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    state_->read();
}

raw_connection::~raw_connection()
{
    close();
    // The read completes (aborted) while the loop still runs; the state it holds goes with it.
    run_until(ioc_, [s = state_] { return s->ended; }, std::chrono::seconds(1));
}

void raw_connection::send(std::string_view bytes)
{
    boost::system::error_code ignored;
    asio::write(state_->socket, asio::buffer(bytes), ignored);
}

void raw_connection::shutdown_send()
{
    boost::system::error_code ignored;
    state_->socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void raw_connection::close()
{
    boost::system::error_code ignored;
    state_->socket.close(ignored);
}

std::uint16_t raw_connection::local_port() const
{
    return state_->socket.local_endpoint().port();
}

std::string const& raw_connection::received() const
{
    return state_->received;
}

bool raw_connection::closed() const
{
    return state_->ended;
}

bool raw_connection::wait_for(std::function<bool(std::string const&)> pred, std::chrono::milliseconds deadline)
{
    return run_until(ioc_, [&] { return pred(state_->received); }, deadline);
}

bool raw_connection::wait_for(std::string_view text, std::chrono::milliseconds deadline)
{
    return wait_for([text](std::string const& got) { return got.find(text) != std::string::npos; }, deadline);
}

bool raw_connection::wait_closed(std::chrono::milliseconds deadline)
{
    return run_until(ioc_, [s = state_] { return s->ended; }, deadline);
}

std::pair<std::string, bool> raw_round_trip(asio::io_context& ioc, std::uint16_t port, std::string_view request,
                                            std::chrono::milliseconds deadline)
{
    raw_connection c(ioc, port);
    c.send(request);
    bool const closed = c.wait_closed(deadline);
    return {c.received(), closed};
}

std::optional<raw_response> take_response(std::string_view& bytes, bool head)
{
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.skip(head);
    std::size_t used = 0;
    while (used < bytes.size() && !parser.is_done()) {
        boost::beast::error_code ec;
        used += parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        if (ec)
            return std::nullopt;
    }
    if (!parser.is_done())
        return std::nullopt;
    bytes.remove_prefix(used);
    return parser.release();
}

std::vector<raw_response> take_responses(std::string_view bytes)
{
    std::vector<raw_response> out;
    while (auto res = take_response(bytes))
        out.push_back(std::move(*res));
    return out;
}

}  // namespace switchboard::test
