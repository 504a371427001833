#pragma once
// A server-side TLS stream with nothing buffered while idle, in place of Asio's ssl::stream (which holds two
// 17 KB vectors and a BIO pair with two 17 KB buffers per connection, allocated at creation, whatever
// OpenSSL is told). OpenSSL reads and writes the socket itself (tls_engine's BIO): when it wants input the
// operation waits for the socket to be readable and tries again; output the socket does not take is written by
// the operation that made it (the handshake, a write, the shutdown) before it completes.
//
// NextLayer is either Beast's tcp_stream, during the HTTP phase (its deadlines apply: a wait reads a record
// header's worth through it, and output is written through it), or a bare socket for a push_channel (waits are
// readiness waits, no timers). The one converts to the other (tls_stream<tcp::socket>(std::move(http_one))).
//
// Meets Asio's AsyncReadStream and AsyncWriteStream. One read and one write may be pending at once (full duplex);
// the handshake and the shutdown each run alone. A write completes once its record has left for the socket.
// Loop thread only. Errors: the peer's close_notify reads as eof, its TCP end without one as
// ssl::error::stream_truncated, TLS errors in Asio's ssl category.

#include "http/tls_engine.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <string_view>
#include <type_traits>
#include <utility>

namespace switchboard::detail {

template <class NextLayer>
class tls_stream {
public:
    using next_layer_type = NextLayer;
    using executor_type = typename NextLayer::executor_type;

    /// TLS over `next` with the context's settings; `prefix`: bytes already read from it (the client's first).
    tls_stream(NextLayer next, SSL_CTX* context, std::string_view prefix)
        : next_(std::move(next)), engine_(context, socket().native_handle(), prefix)
    {
    }
    tls_stream(tls_stream&&) noexcept = default;

    /// The same connection over the bare socket (for a push_channel): no deadlines from here on.
    template <class Other>
        requires(!std::is_same_v<Other, NextLayer>)
    explicit tls_stream(tls_stream<Other>&& other)
        : next_(other.next_.release_socket()), engine_(std::move(other.engine_))
    {
    }

    NextLayer& next_layer() noexcept { return next_; }
    boost::asio::ip::tcp::socket& socket() noexcept
    {
        if constexpr (std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>)
            return next_;
        else
            return next_.socket();
    }
    executor_type get_executor() noexcept { return next_.get_executor(); }
    SSL* native_handle() const noexcept { return engine_.native_handle(); }

    /// Reads what OpenSSL can give now without waiting (want_read: wait for the socket, then call again).
    /// For a reader of its own that waits with socket().async_wait and reads into a shared buffer: no buffer
    /// is held while it waits. Not while an async_read_some is pending.
    tls_engine::step read_now(boost::asio::mutable_buffer to, std::size_t& n, boost::system::error_code& ec)
    {
        if (!socket().is_open()) {  // see op_state::run
            ec = boost::asio::error::bad_descriptor;
            return tls_engine::step::failed;
        }
        return engine_.read(to, n, ec);
    }
    /// Output a read made (an alert, a key update's answer) that the socket did not take: the next write
    /// (async_write_some of an empty buffer will do) sends it.
    bool output_waiting() const noexcept { return engine_.output_waiting(); }

    /// The server side of the handshake, from the prefix and then the socket.
    template <class Token>
    auto async_handshake(Token&& token)
    {
        return boost::asio::async_compose<Token, void(boost::system::error_code)>(
            [op = op_state{this, kind::handshake}](auto& self, boost::system::error_code ec = {},
                                                            std::size_t n = 0) mutable { op.resume(self, ec, n); },
            token, next_);
    }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(MutableBufferSequence const& buffers, Token&& token)
    {
        return start(kind::read, first_of<boost::asio::mutable_buffer>(buffers), {}, std::forward<Token>(token));
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(ConstBufferSequence const& buffers, Token&& token)
    {
        return start(kind::write, {}, first_of<boost::asio::const_buffer>(buffers), std::forward<Token>(token));
    }

    /// Sends close_notify, then reads (and drops) until the peer's close_notify or end of stream: completes with
    /// no error then. Bounded by the caller's deadline (tcp_stream) or its closing the socket.
    template <class Token>
    auto async_shutdown(Token&& token)
    {
        return boost::asio::async_compose<Token, void(boost::system::error_code)>(
            [op = op_state{this, kind::shutdown}](auto& self, boost::system::error_code ec = {},
                                                           std::size_t n = 0) mutable {
                op.resume(self, ec, n);
            },
            token, next_);
    }

private:
    template <class>
    friend class tls_stream;

    enum class kind { handshake, read, write, shutdown };

    template <class Buffer, class Sequence>
    static Buffer first_of(Sequence const& buffers)
    {
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it) {
            Buffer b(*it);
            if (b.size() > 0)
                return b;
        }
        return {};
    }

    // One operation's progress; resume() is called at the start and after each wait or write it starts.
    struct op_state {
        op_state(tls_stream* stream, kind what, boost::asio::mutable_buffer to = {}, boost::asio::const_buffer from = {})
            : s(stream), k(what), in(to), out(from)
        {
        }

        tls_stream* s;
        kind k;
        boost::asio::mutable_buffer in;
        boost::asio::const_buffer out;
        enum class at { start, waiting, writing, posted } where = at::start;
        bool went_async = false;
        bool close_sent = false;  // shutdown: our close_notify is out, now reading to the peer's end
        bool finished = false;
        bool wants_input = false;  // OpenSSL asked for input before the output being written
        boost::system::error_code result;
        std::size_t n = 0;

        template <class Self>
        void resume(Self& self, boost::system::error_code ec, std::size_t bytes)
        {
            auto& engine = s->engine_;
            switch (where) {
            case at::start:
                break;
            case at::waiting:
                if constexpr (!std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>) {
                    if (ec == boost::asio::error::eof) {
                        engine.saw_eof();  // OpenSSL makes of it a close or a truncation
                        ec = {};
                    } else if (!ec) {
                        engine.got_head(bytes);
                    }
                }
                if (ec)
                    return finish(self, ec);
                break;
            case at::writing:
                engine.output_sent();
                if (ec)
                    return finish(self, ec);
                if (engine.output_waiting())
                    return write_output(self);
                if (finished)
                    return complete(self);
                if (wants_input)
                    return wait(self);
                break;
            case at::posted:
                return complete(self);
            }
            run(self);
        }

        template <class Self>
        void run(Self& self)
        {
            // The engine reads and writes the descriptor by number: once the socket is closed (a handler that had
            // completed before the close runs after it), that number may be another connection's.
            if (!s->socket().is_open())
                return finish(self, boost::asio::error::bad_descriptor);
            auto& engine = s->engine_;
            for (;;) {
                boost::system::error_code ec;
                tls_engine::step step = tls_engine::step::done;
                switch (k) {
                case kind::handshake:
                    step = engine.handshake(ec);
                    break;
                case kind::read:
                    if (in.size() == 0)
                        return finish(self, {});
                    step = engine.read(in, n, ec);
                    break;
                case kind::write:
                    if (out.size() == 0)
                        return finish(self, {});
                    step = engine.write(out, n, ec);
                    break;
                case kind::shutdown:
                    if (!close_sent) {
                        if (!engine.can_close())
                            return finish(self, {});  // broken, or never set up: nothing to say or wait for
                        step = engine.shutdown(ec);
                        if (step == tls_engine::step::done) {
                            close_sent = true;
                            if (engine.output_waiting())
                                return write_output(self);
                            continue;
                        }
                    } else {
                        char dropped[512];
                        std::size_t ignored = 0;
                        step = engine.read(boost::asio::buffer(dropped), ignored, ec);
                        if (step == tls_engine::step::done)
                            continue;  // data after our close_notify: dropped
                        if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated)
                            return finish(self, {});  // the peer's end, with or without its close_notify
                    }
                    break;
                }
                if (step == tls_engine::step::failed)
                    return finish(self, ec);
                if (step == tls_engine::step::done)
                    return finish(self, {});
                // want_read. Reads leave what they made (an alert, a key update) for the next writer.
                if (k != kind::read && engine.output_waiting()) {
                    wants_input = true;
                    return write_output(self);
                }
                return wait(self);
            }
        }

        template <class Self>
        void wait(Self& self)
        {
            where = at::waiting;
            went_async = true;
            wants_input = false;
            if constexpr (std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>)
                s->next_.async_wait(boost::asio::socket_base::wait_read, std::move(self));
            else
                s->next_.async_read_some(s->engine_.head_room(), std::move(self));
        }

        template <class Self>
        void write_output(Self& self)
        {
            where = at::writing;
            went_async = true;
            boost::asio::async_write(s->next_, s->engine_.start_output(), std::move(self));
        }

        template <class Self>
        void finish(Self& self, boost::system::error_code ec)
        {
            finished = true;
            result = ec;
            // A write (or handshake) completes once its output has left; a failed one has nothing more to send.
            if (!ec && k != kind::read && s->engine_.output_waiting())
                return write_output(self);
            if (!went_async) {
                // Completion handlers never run inside the initiating call.
                where = at::posted;
                went_async = true;
                return boost::asio::post(s->next_.get_executor(), std::move(self));
            }
            complete(self);
        }

        template <class Self>
        void complete(Self& self)
        {
            if constexpr (requires { self.complete(result, n); }) {
                if (k == kind::read || k == kind::write)
                    return self.complete(result, result ? 0 : n);
            }
            if constexpr (requires { self.complete(result); })
                self.complete(result);
        }
    };

    template <class Token>
    auto start(kind k, boost::asio::mutable_buffer in, boost::asio::const_buffer out, Token&& token)
    {
        return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
            [op = op_state{this, k, in, out}](auto& self, boost::system::error_code ec = {},
                                              std::size_t n = 0) mutable { op.resume(self, ec, n); },
            token, next_);
    }

    NextLayer next_;
    tls_engine engine_;
};

}  // namespace switchboard::detail
