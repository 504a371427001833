#pragma once
// What the test clients connect over: plain TCP or TLS, chosen per connection (independent of the server's
// own stream code). A client is told which by the port it is given: `port` is plain, `tls_port(port)` TLS.

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <cstdint>
#include <utility>
#include <variant>

namespace switchboard::test {

// A server's port on 127.0.0.1 and whether to speak TLS to it. Converts from a bare port (plain), so clients
// taking a server_port are called as before.
struct server_port {
    server_port(std::uint16_t p, bool use_tls = false) : port(p), tls(use_tls) {}  // NOLINT: implicit on purpose
    std::uint16_t port;
    bool tls;
};

inline server_port tls_port(std::uint16_t port)
{
    return {port, true};
}

// The clients' TLS settings: TLS 1.2 or later, the server's certificate not verified (tests use self-signed
// ones made at run time). Shared by every client; thread-safe after the first call.
boost::asio::ssl::context& client_tls_context();

// An AsyncStream over either; next_layer() is the TCP stream both ways, so beast::get_lowest_layer() reaches
// the socket and its deadlines.
class client_stream {
public:
    using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
    using executor_type = boost::beast::tcp_stream::executor_type;
    using next_layer_type = boost::beast::tcp_stream;

    explicit client_stream(boost::asio::io_context& ioc) : stream_(std::in_place_index<0>, ioc) {}

    /// Makes this a TLS stream; call before connecting.
    void use_tls()
    {
        if (is_tls())
            return;
        boost::beast::tcp_stream tcp(std::move(std::get<0>(stream_)));
        stream_.emplace<1>(std::move(tcp), client_tls_context());
    }

    bool is_tls() const noexcept { return stream_.index() == 1; }
    tls_stream& tls() noexcept { return std::get<1>(stream_); }
    boost::beast::tcp_stream& next_layer() noexcept
    {
        return is_tls() ? std::get<1>(stream_).next_layer() : std::get<0>(stream_);
    }
    executor_type get_executor() noexcept { return next_layer().get_executor(); }

    /// The TLS client handshake (completes at once for a plain stream).
    template <class Handler>
    void async_start(Handler&& handler)
    {
        if (!is_tls())
            return boost::asio::post(get_executor(), [h = std::forward<Handler>(handler)]() mutable { h({}); });
        tls().async_handshake(boost::asio::ssl::stream_base::client, std::forward<Handler>(handler));
    }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(MutableBufferSequence const& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, MutableBufferSequence const& b) {
                if (is_tls())
                    std::get<1>(stream_).async_read_some(b, std::move(handler));
                else
                    std::get<0>(stream_).async_read_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(ConstBufferSequence const& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, ConstBufferSequence const& b) {
                if (is_tls())
                    std::get<1>(stream_).async_write_some(b, std::move(handler));
                else
                    std::get<0>(stream_).async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

    friend void beast_close_socket(client_stream& s) { s.next_layer().close(); }

    friend void teardown(boost::beast::role_type role, client_stream& s, boost::system::error_code& ec)
    {
        using boost::beast::websocket::teardown;
        if (s.is_tls())
            teardown(role, s.tls(), ec);
        else
            teardown(role, s.next_layer(), ec);
    }

    template <class TeardownHandler>
    friend void async_teardown(boost::beast::role_type role, client_stream& s, TeardownHandler&& handler)
    {
        using boost::beast::websocket::async_teardown;
        if (s.is_tls())
            async_teardown(role, s.tls(), std::forward<TeardownHandler>(handler));
        else
            async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
    }

private:
    std::variant<boost::beast::tcp_stream, tls_stream> stream_;
};

}  // namespace switchboard::test
