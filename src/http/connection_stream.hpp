#pragma once
// A client's byte stream as the HTTP side sees it: plain TCP, or TLS over TCP (told apart by the client's first
// byte, see http_connection). One type for both, so the HTTP connection, an HTTP/2 session and the
// streaming channels take either without becoming templates; each asynchronous call is one branch to the
// stream underneath. Meets Asio's AsyncReadStream and AsyncWriteStream.

#include "core/idle_watch.hpp"
#include "http/tls_stream.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <memory>
#include <utility>
#include <variant>

namespace switchboard::detail {

class connection_stream {
public:
    using tls_stream = detail::tls_stream<boost::beast::tcp_stream>;
    using executor_type = boost::beast::tcp_stream::executor_type;

    // The plain stream is made in place: moving a tcp_stream allocates a new state block (Beast keeps the
    // moved-from one valid), and a hole per connection left behind adds to idle memory. A resting stream moves
    // as a pointer: what hands a stream on rests it first (http_connection::release).
    explicit connection_stream(boost::asio::ip::tcp::socket socket) : stream_(std::in_place_index<0>, std::move(socket)) {}
    struct resting_t {};
    /// Resting from the start (rest()): Beast's state is made only if wake() needs it. Throws std::bad_alloc.
    connection_stream(boost::asio::ip::tcp::socket socket, resting_t)
        : stream_(std::in_place_index<2>, std::make_unique<boost::asio::ip::tcp::socket>(std::move(socket)))
    {
    }
    connection_stream(connection_stream&&) = default;

    /// Puts TLS (`context`) over the plain stream, `read` being the bytes already read from it (served to the
    /// handshake first); the handshake is the caller's next step. Throws std::bad_alloc.
    void start_tls(boost::asio::ssl::context& context, std::string_view read)
    {
        boost::beast::tcp_stream tcp(std::move(std::get<0>(stream_)));
        stream_.emplace<1>(std::make_unique<tls_stream>(std::move(tcp), context.native_handle(), read));
    }

    bool is_tls() const noexcept { return stream_.index() == 1; }
    /// The TCP layer either way: deadlines (expires_after) and the socket. A resting stream wakes for it.
    /// Throws std::bad_alloc.
    boost::beast::tcp_stream& tcp()
    {
        wake();
        return is_tls() ? tls().next_layer() : std::get<0>(stream_);
    }
    /// No deadline for what is pending: nothing to do while resting (a resting stream has no deadlines).
    void expires_never()
    {
        if (!resting())
            tcp().expires_never();
    }
    /// Only when is_tls().
    tls_stream& tls() noexcept { return *std::get<1>(stream_); }
    /// The socket, resting or not (but not parked).
    boost::asio::ip::tcp::socket& socket() noexcept { return resting() ? *std::get<2>(stream_) : tcp().socket(); }

    /// A plain stream that waits on nothing but its peer (a long poll holding its answer) keeps only its socket:
    /// Beast's deadline state, ~550 bytes with its timers, is freed until wake(). Over TLS, nothing: the SSL
    /// object dwarfs it. No operation may be pending but a wait on the socket. Throws std::bad_alloc.
    void rest()
    {
        if (stream_.index() == 0)
            stream_.emplace<2>(std::make_unique<boost::asio::ip::tcp::socket>(std::get<0>(stream_).release_socket()));
    }
    /// Deadlines again, after rest(). The socket moves with its pending wait, if any: the same executor type, so
    /// Asio's registration moves with it, no system call. Throws std::bad_alloc.
    void wake()
    {
        if (!resting())
            return;
        auto socket = std::move(*std::get<2>(stream_));  // out first: emplace frees the block it is in
        stream_.emplace<0>(std::move(socket));
    }
    bool resting() const noexcept { return stream_.index() == 2; }
    /// The socket of a plain stream, resting or not, taken out of it: for a channel's io, which needs nothing
    /// else (its own deadlines are the keepalive ticks).
    boost::asio::ip::tcp::socket take_socket()
    {
        return resting() ? std::move(*std::get<2>(stream_)) : std::get<0>(stream_).release_socket();
    }
    /// While resting: gives the socket's descriptor up, to wait outside Asio (the loop's idle watch), and frees the
    /// socket object (~90 bytes) until unpark(); nothing may use the socket meanwhile. -1, with `ec` set, when
    /// Asio cannot let the descriptor go (the socket is kept then).
    int park(boost::system::error_code& ec)
    {
        auto& held = std::get<2>(stream_);
        int const fd = held->release(ec);
        if (!ec)
            held.reset();
        return fd;
    }
    /// The parked descriptor `fd` under a socket of `ex` again (`v6`: its protocol). False when Asio cannot take
    /// it: `fd` is closed, and so is the socket.
    bool unpark(executor_type const& ex, bool v6, int fd)
    {
        auto held = std::make_unique<boost::asio::ip::tcp::socket>(ex);
        boost::system::error_code ec;
        bool const taken = idle_watch::take_back(*held, v6, fd, ec) && !ec;
        std::get<2>(stream_) = std::move(held);
        return taken;
    }
    /// Closes the socket, resting or not; otherwise as Beast's tcp_stream closes (its deadline timers too). Not
    /// while parked.
    void close()
    {
        boost::system::error_code ignored;
        if (resting())
            socket().close(ignored);
        else
            tcp().close();
    }

    executor_type get_executor() noexcept { return socket().get_executor(); }

    // A resting stream wakes for a read or a write (tcp()), with no deadline: the caller sets the one it needs
    // (http_connection::wait_for_input).
    template <class MutableBufferSequence, class Token>
    auto async_read_some(MutableBufferSequence const& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, MutableBufferSequence const& b) {
                if (is_tls())
                    tls().async_read_some(b, std::move(handler));
                else
                    tcp().async_read_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(ConstBufferSequence const& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, ConstBufferSequence const& b) {
                if (is_tls())
                    tls().async_write_some(b, std::move(handler));
                else
                    tcp().async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

private:
    // TLS out of line: inline, its ~150 bytes would sit in every plain connection (an HTTP connection, a waiting
    // long poll) too.
    std::variant<boost::beast::tcp_stream, std::unique_ptr<tls_stream>, std::unique_ptr<boost::asio::ip::tcp::socket>>
        stream_;
};

}  // namespace switchboard::detail
