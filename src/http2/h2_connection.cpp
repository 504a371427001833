#include "http2/h2_connection.hpp"

#include "core/read_scratch.hpp"
#include "http2/h2_stream.hpp"
#include "http2/h2_stream_io.hpp"
#include "server_context.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>
#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <vector>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

// What one write gathers at most: a connection with much to say writes in pieces, behind other connections.
constexpr std::size_t max_write = 64 * 1024;

// Fields that mean something for one HTTP/1.1 connection only; HTTP/2 forbids them (RFC 9113 8.2.2).
bool connection_specific(std::string_view name)
{
    return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
           name == "transfer-encoding" || name == "upgrade";
}

std::uint32_t setting(std::size_t value, std::uint32_t max)
{
    return static_cast<std::uint32_t>(std::min<std::size_t>(value, max));
}

h2_stream* stream_of(nghttp2_session* session, std::int32_t id)
{
    return static_cast<h2_stream*>(nghttp2_session_get_stream_user_data(session, id));
}

}  // namespace

// nghttp2's callbacks, with the connection as user data.
struct h2_callbacks {
    static int on_begin_headers(nghttp2_session* session, nghttp2_frame const* frame, void* user)
    {
        if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
            return 0;
        auto& conn = *static_cast<h2_connection*>(user);
        auto s = std::make_shared<h2_stream>(conn.weak_from_this(), frame->hd.stream_id, conn.ctx_,
                                             conn.remote_address_);
        nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s.get());
        conn.streams_.emplace(frame->hd.stream_id, std::move(s));
        ++conn.ctx_.h2_streams;
        conn.arm_timer();
        return 0;
    }

    static int on_header(nghttp2_session* session, nghttp2_frame const* frame, std::uint8_t const* name,
                         std::size_t namelen, std::uint8_t const* value, std::size_t valuelen, std::uint8_t, void*)
    {
        if (frame->hd.type != NGHTTP2_HEADERS)
            return 0;
        if (auto* s = stream_of(session, frame->hd.stream_id))
            s->add_header({reinterpret_cast<char const*>(name), namelen},
                          {reinterpret_cast<char const*>(value), valuelen});
        return 0;
    }

    static int on_frame_recv(nghttp2_session* session, nghttp2_frame const* frame, void*)
    {
        auto* s = stream_of(session, frame->hd.stream_id);
        if (!s)
            return 0;
        bool const end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
            if (!s->header_block_done())
                return 0;
        } else if (frame->hd.type != NGHTTP2_DATA) {
            return 0;
        }
        if (end)
            s->complete();
        return 0;
    }

    static int on_data_chunk_recv(nghttp2_session* session, std::uint8_t, std::int32_t stream_id,
                                  std::uint8_t const* data, std::size_t len, void*)
    {
        if (auto* s = stream_of(session, stream_id))
            s->add_body({reinterpret_cast<char const*>(data), len});
        return 0;
    }

    static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t code, void* user)
    {
        auto& conn = *static_cast<h2_connection*>(user);
        auto const it = conn.streams_.find(stream_id);
        if (it == conn.streams_.end())
            return 0;
        auto s = std::move(it->second);
        conn.streams_.erase(it);
        --conn.ctx_.h2_streams;
        if (conn.streams_.empty()) {
            conn.idle_since_ = std::chrono::steady_clock::now();
            conn.arm_timer();
        }
        s->closed(code);
        return 0;
    }

    static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source* source, void* user)
    {
        auto* s = static_cast<h2_stream*>(source->ptr);
        if (auto* io = s->push()) {
            // A push channel's outbox: taken as the windows allow; deferred while empty (resume_data).
            auto const n = io->read(buf, length, flags);
            if (n != NGHTTP2_ERR_DEFERRED)
                static_cast<h2_connection*>(user)->pulled_.push_back(
                    std::static_pointer_cast<h2_stream>(s->shared_from_this()));
            return n;
        }
        bool eof = false;
        auto const n = s->read_body(buf, length, eof);
        if (eof)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }
};

h2_connection::h2_connection(connection_stream stream, connection_slot slot, std::string read, server_context& ctx,
                             packed_address remote_address)
    : stream_(std::move(stream)),
      slot_(std::move(slot)),
      ctx_(ctx),
      remote_address_(std::move(remote_address)),
      early_input_(std::move(read)),
      timer_(stream_.get_executor()),
      idle_since_(std::chrono::steady_clock::now())
{
    stream_.wake();  // it came resting (http_connection::release): deadlines from here on
    ctx_.h2_connections.add(this);
}

h2_connection::~h2_connection()
{
    ctx_.h2_connections.remove(*this);
    if (session_)
        nghttp2_session_del(session_);
}

void h2_connection::start()
{
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_option* option = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&option) != 0) {
        nghttp2_session_callbacks_del(callbacks);
        return stream_.tcp().close();
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &h2_callbacks::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &h2_callbacks::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &h2_callbacks::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &h2_callbacks::on_data_chunk_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &h2_callbacks::on_stream_close);
    auto const& limits = ctx_.options.http2;
    // nghttp2 checks what RFC 9110 and 9113 require of requests (pseudo-fields, connection-specific fields,
    // Content-Length against the DATA received) and refuses the stream otherwise: left on.
    int const rv = nghttp2_session_server_new2(&session_, callbacks, this, option);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_option_del(option);
    if (rv != 0) {
        session_ = nullptr;
        return stream_.tcp().close();
    }
    // ENABLE_CONNECT_PROTOCOL (RFC 8441): a browser opens a WebSocket as a stream of this connection (extended
    // CONNECT, :protocol websocket) instead of a connection of its own.
    std::array<nghttp2_settings_entry, 4> settings{{
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, setting(limits.max_concurrent_streams, 0xffffffffu)},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, setting(limits.initial_window_size, NGHTTP2_MAX_WINDOW_SIZE)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, setting(limits.max_header_list_size, 0xffffffffu)},
        {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
    }};
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size()) != 0)
        return stream_.tcp().close();
    stream_.tcp().expires_never();
    auto const early = std::move(early_input_);
    early_input_ = {};
    arm_timer();
    receive(early);
    if (!closed_)
        wait_readable();
}

void h2_connection::wait_readable()
{
    if (stream_.is_tls()) {
        // Over TLS the bytes come decrypted from the TLS stream, into a buffer of the connection's own.
        if (!tls_input_)
            tls_input_ = std::make_unique<std::array<char, 16 * 1024>>();
        return stream_.async_read_some(boost::asio::buffer(*tls_input_),
                                       [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                           if (ec || self->closed_)
                                               return self->close();
                                           self->receive({self->tls_input_->data(), n});
                                           if (!self->closed_)
                                               self->wait_readable();
                                       });
    }
    // Like plain_io: wait, then read into the loop's scratch buffer, so an idle connection holds no read buffer.
    stream_.tcp().socket().async_wait(boost::asio::socket_base::wait_read,
                                      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void h2_connection::on_readable(boost::system::error_code ec)
{
    if (ec || closed_)
        return close();
    auto& buffer = read_scratch();
    // Bounded: one 64 KiB read per wake-up, so one chatty client cannot starve the loop.
    std::size_t const n = stream_.tcp().socket().read_some(boost::asio::buffer(buffer), ec);
    if (ec == boost::asio::error::would_block)
        return wait_readable();
    if (ec)
        return close();
    receive({buffer.data(), n});
    if (!closed_)
        wait_readable();
}

void h2_connection::receive(std::string_view bytes)
{
    auto const* data = reinterpret_cast<std::uint8_t const*>(bytes.data());
    auto const used = nghttp2_session_mem_recv(session_, data, bytes.size());
    if (used < 0) {
        // A protocol error: nghttp2 has queued GOAWAY where one is due (bad preface, bad frame, flood); it
        // leaves after what is queued, then the connection closes.
        spdlog::debug("HTTP/2 from {}: {}", remote_address_.text(), nghttp2_strerror(static_cast<int>(used)));
        if (used == NGHTTP2_ERR_BAD_CLIENT_MAGIC || used == NGHTTP2_ERR_FLOODED || used == NGHTTP2_ERR_NOMEM)
            return close();
        nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    }
    schedule_send();
}

void h2_connection::schedule_send()
{
    // After the handlers already queued: every answer of this turn leaves in one write.
    if (send_posted_ || closed_)
        return;
    send_posted_ = true;
    boost::asio::post(stream_.get_executor(), [self = shared_from_this()] { self->send(); });
}

void h2_connection::send()
{
    send_posted_ = false;
    if (writing_ || closed_)
        return;
    while (output_.size() < max_write) {
        std::uint8_t const* data = nullptr;
        auto const n = nghttp2_session_mem_send(session_, &data);
        if (n < 0)
            return close();
        if (n == 0)
            break;
        output_.append(reinterpret_cast<char const*>(data), static_cast<std::size_t>(n));
    }
    // The push channels whose outboxes were read hear it now, outside nghttp2: they may refill them (replays),
    // or, emptied while closing, end their streams.
    for (auto pulled = std::move(pulled_); auto const& s : pulled)
        if (auto* io = s->push())
            io->after_send();
    pulled_.clear();
    if (output_.empty()) {
        bool const done = !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_);
        if (done || (going_away_ && streams_.empty()))
            close();
        return;
    }
    if (!stream_.is_tls()) {
        // An answer almost always fits the socket's buffer: written now, without a trip through the scheduler.
        boost::system::error_code ec;
        auto const sent = stream_.tcp().socket().write_some(boost::asio::buffer(output_), ec);
        if (ec && ec != boost::asio::error::would_block)
            return close();
        output_.erase(0, sent);
        if (output_.empty())
            return send();  // what nghttp2 may have left past max_write
    }
    writing_ = true;
    // A client that reads nothing for request_timeout is cut off, as an HTTP/1.1 answer's write would be.
    stream_.tcp().expires_after(ctx_.options.request_timeout);
    boost::asio::async_write(stream_, boost::asio::buffer(output_),
                             [self = shared_from_this()](boost::system::error_code e, std::size_t) { self->on_write(e); });
}

void h2_connection::on_write(boost::system::error_code ec)
{
    writing_ = false;
    stream_.tcp().expires_never();
    output_.clear();
    if (output_.capacity() > max_write)
        output_.shrink_to_fit();
    if (ec)
        return close();
    send();
}

void h2_connection::submit_response(h2_stream& s, http_response const& res, bool streaming)
{
    if (closed_ || !session_)
        return;
    std::vector<std::string> names;
    names.reserve(std::distance(res.begin(), res.end()));
    std::vector<nghttp2_nv> nv;
    nv.reserve(names.capacity() + 1);
    auto const status = std::to_string(res.result_int());
    auto const bytes = [](auto const& v) { return reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())); };
    std::string_view const status_name = ":status";
    nv.push_back({bytes(status_name), bytes(status), status_name.size(), status.size(), NGHTTP2_NV_FLAG_NONE});
    for (auto const& field : res) {
        auto& name = names.emplace_back(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        if (connection_specific(name))
            continue;
        nv.push_back({bytes(name), bytes(field.value()), name.size(), field.value().size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider body{};
    body.source.ptr = &s;
    body.read_callback = &h2_callbacks::read_body;
    bool eof = false;
    std::uint8_t none = 0;
    if (!streaming)
        s.read_body(&none, 0, eof);  // an empty body ends the stream with the HEADERS frame
    if (nghttp2_submit_response(session_, s.id(), nv.data(), nv.size(), eof ? nullptr : &body) != 0)
        reset_stream(s.id(), NGHTTP2_INTERNAL_ERROR);
    if (!streaming)
        arm_timer();  // the answer's own deadline (a stream's channel has its own keepalive)
    schedule_send();
}

void h2_connection::resume_data(std::int32_t id)
{
    if (closed_ || !session_)
        return;
    // Not deferred (nghttp2 already waits to send, or the stream's window is shut): nothing to resume.
    nghttp2_session_resume_data(session_, id);
    schedule_send();
}

void h2_connection::reset_stream(std::int32_t id, std::uint32_t code)
{
    if (closed_ || !session_)
        return;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
    schedule_send();
}

void h2_connection::go_away()
{
    if (closed_ || going_away_ || !session_)
        return;
    going_away_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    schedule_send();
}

void h2_connection::arm_timer()
{
    // The timer waits for the earliest deadline, or not at all (only held requests: a long poll's own timer
    // bounds it). Every deadline is set to now + request_timeout, so none set later comes before the one the
    // timer already waits for: it is armed once, and again when it fires.
    if (timer_armed_ || closed_)
        return;
    std::optional<std::chrono::steady_clock::time_point> next;
    if (streams_.empty())
        next = idle_since_ + ctx_.options.request_timeout;
    for (auto const& [id, s] : streams_)
        if (s->deadline && (!next || *s->deadline < *next))
            next = s->deadline;
    if (!next)
        return;
    timer_armed_ = true;
    timer_.expires_at(*next);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) { self->on_timer(ec); });
}

void h2_connection::on_timer(boost::system::error_code ec)
{
    timer_armed_ = false;
    if (ec || closed_)
        return;
    auto const now = std::chrono::steady_clock::now();
    // A request not complete in time (a body that never ends), or an answer the client will not take (its window
    // closed), is reset; the connection's other streams go on.
    std::vector<std::int32_t> late;
    for (auto const& [id, s] : streams_)
        if (s->deadline && *s->deadline <= now)
            late.push_back(id);
    for (auto id : late) {
        streams_.at(id)->deadline.reset();
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    }
    if (!late.empty())
        schedule_send();
    // A connection without streams for request_timeout is closed, as an idle kept-alive HTTP/1.1 one is.
    if (streams_.empty() && now - idle_since_ >= ctx_.options.request_timeout) {
        go_away();
        return;
    }
    arm_timer();
}

void h2_connection::close()
{
    if (closed_)
        return;
    closed_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    stream_.tcp().socket().close(ignored);
    // Routes holding a stream (a long poll) hear that its client is gone.
    auto open = std::move(streams_);
    streams_.clear();
    ctx_.h2_streams -= open.size();
    for (auto& [id, s] : open)
        s->closed(NGHTTP2_CANCEL);
}

}  // namespace switchboard::detail
