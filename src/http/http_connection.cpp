#include "http/http_connection.hpp"

#include "core/client_address.hpp"
#include "security/authenticator.hpp"
#include "core/exact_allocation.hpp"
#include "core/packed_address_of.hpp"
#include "core/read_scratch.hpp"
#include "http/http_responses.hpp"
#include "http/pipelined_request.hpp"
#include "http/query.hpp"
#include "http/request_token.hpp"
#include "server_context.hpp"

#include <switchboard/error.hpp>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <exception>
#include <new>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/read.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

namespace switchboard::detail {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

boost::asio::ip::tcp::endpoint peer_of(boost::asio::ip::tcp::socket const& s)
{
    boost::system::error_code ec;
    auto const ep = s.remote_endpoint(ec);
    return ec ? boost::asio::ip::tcp::endpoint{} : ep;
}

packed_address address_of(boost::asio::ip::tcp::socket const& s)
{
    auto const peer = peer_of(s);
    return packed_address_of(peer.address(), peer.port());
}

// A plain connection's stream rests from the start: its first request, once it has come whole, is read and handled
// on the socket alone (read_request), and Beast's state (~550 bytes with its timers) is never made for it. One that
// may bring TLS keeps Beast's stream for the sniff and the handshake. Made in place (see connection_stream).
connection_stream stream_of(boost::asio::ip::tcp::socket socket, bool tls)
{
    if (tls)
        return connection_stream(std::move(socket));
    return connection_stream(std::move(socket), connection_stream::resting_t{});
}

// Refused connections draining at once (see refuse_connection): past this many, a refused connection is closed
// without its answer, so a flood of connections that stay open costs no more sockets than this.
constexpr std::size_t max_lingering_refusals = 1024;

// Requests one connection may have handled in one loop turn, from what it has already read, before the turn's
// flush. Handling every request already read before flushing lets the fan-out of pipelined publishes share one
// write per subscriber (as WebSocket frames read together do) instead of one write per publish; 64 publishes per
// flush already cut those writes 64-fold, while one connection cannot keep the loop from the flush and from other
// connections' ready handlers for more than that many requests (a few ms of fan-out to 1,000 subscribers).
constexpr std::size_t max_requests_per_turn = 64;

// What a client sends first on an HTTP/2 connection with prior knowledge (RFC 9113 3.4).
constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// A connection waiting for its next request with an empty buffer larger than this gives the buffer back.
constexpr std::size_t idle_buffer_capacity = 4096;

// An answer's send in the turn's batch (send_batch): tells its connection how it went, and keeps it alive until.
struct batched_answer final : batched_sender {
    batched_answer(std::shared_ptr<http_connection> c, bool k) : conn(std::move(c)), keep_alive(k) {}
    void on_batch_sent(ssize_t result) override { conn->answer_sent(result, keep_alive); }
    std::shared_ptr<http_connection> conn;
    bool keep_alive;
};

}  // namespace

// The answers owed on a connection that pipelines, in the order of their requests: a slot per request handed off
// (hand_off), filled when its answer comes (answer_in_line), and the connection's own answers given while others
// were owed. The ready ones at the front go out together at the turn's flush.
struct http_connection::answer_line final : flushable {
    struct slot {
        std::string bytes;      // the answer, serialized
        std::size_t held = 0;   // the request's bytes, counted in held_bytes until its answer
        bool ready = false;
        bool keep_alive = true;
    };
    explicit answer_line(http_connection& c) : connection(c) {}

    http_connection& connection;  // whose line it is: it lives as long as the connection
    std::deque<slot> slots;
    std::uint64_t front = 0;        // the place of slots.front()
    std::size_t held_bytes = 0;     // of the requests not answered yet: at most limits.max_pending_bytes
    bool writing = false;
    bool resume = false;            // the connection's own request is answered: the next is read once all are out
    bool waiting_for_room = false;  // the line is full: the next request is read once it has room
    bool closing = false;           // the client's input ended: closed once all are out
    route const* deferred = nullptr;  // a request that runs once all are out

    void flush() { connection.write_line(); }
};

http_connection::http_connection(boost::asio::ip::tcp::socket socket, server_context& ctx)
    : exchange(ctx, address_of(socket)),
      stream_(stream_of(std::move(socket), ctx.tls != nullptr))
{
    // respond() tries a plain answer at once and must hear would_block, not wait, when the socket is full.
    boost::system::error_code nb;
    stream().socket().non_blocking(true, nb);
    ctx_.http_connections.add(this);
}

boost::beast::flat_buffer& http_connection::buffer()
{
    // Beast holds a chunk-size line or a trailer section until it ends: without a bound, one that never ends would
    // have the buffer grow with all the client sends until the deadline.
    if (!buffer_)
        buffer_ = std::make_unique<boost::beast::flat_buffer>(ctx_.options.max_header_size +
                                                              ctx_.options.max_message_size);
    return *buffer_;
}

http_connection::~http_connection()
{
    if (parked_ >= 0)
        ctx_.idle.discard(parked_, *this);
    if (lingering_refusal_)
        --ctx_.lingering_refusals;
    ctx_.http_connections.remove(*this);
}

void http_connection::start()
{
    std::chrono::milliseconds retry_after{0};
    if (auto const refused = ctx_.admit(client_ip(), slot_, retry_after))
        return refuse_connection(refused, retry_after);
    if (ctx_.tls)
        return detect_tls();
    read_request();
}

void http_connection::refuse_connection(boost::system::error_code refused, std::chrono::milliseconds retry_after)
{
    // At once, not after the request: waiting for it (up to request_timeout) would keep a socket per refusal, and
    // one address opening connections in a loop could hold the server's. The answer is written now and the
    // connection drained briefly (shut), so that closing does not reset it away. Over TLS the answer would need
    // a handshake first: the connection is closed unanswered.
    if (ctx_.tls || ctx_.lingering_refusals >= max_lingering_refusals) {
        ctx_.metrics.count_error(error_name(refused));
        return stream().tcp().close();
    }
    ++ctx_.lingering_refusals;
    lingering_refusal_ = true;
    reading_ = std::make_unique<request_reading>();  // the answer's request: HTTP/1.1, and closing
    request().keep_alive(false);
    if (refused == error::rate_limited)
        return respond_rate_limited(retry_after);
    respond_error(refused);
}

void http_connection::detect_tls()
{
    // The bytes read to decide stay in the buffer: the handshake or the HTTP parser starts from them.
    idle_ = true;
    stream().tcp().expires_after(ctx_.options.request_timeout);
    beast::async_detect_ssl(stream().tcp(), buffer(), [self = shared_from_this()](beast::error_code ec, bool tls) {
        self->on_detect(ec, tls);
    });
}

void http_connection::on_detect(boost::system::error_code ec, bool tls)
{
    if (ec)
        return stream().tcp().close();
    if (!tls) {
        if (ctx_.options.tls_only)
            return stream().tcp().close();
        return read_request();
    }
    ++ctx_.metrics.tls_handshakes;
    // The bytes the sniff read go to the TLS stream, which serves them to OpenSSL before the socket's.
    try {
        stream().start_tls(*ctx_.tls, {static_cast<char const*>(buffer().data().data()), buffer().size()});
    } catch (std::bad_alloc const&) {
        ++ctx_.metrics.tls_handshake_failures;
        return stream().tcp().close();
    }
    buffer_.reset();
    // One deadline, still running, for the handshake: a client stalling mid-handshake is cut off in time.
    stream().tls().async_handshake([self = shared_from_this()](beast::error_code e) { self->on_handshake(e); });
}

void http_connection::on_handshake(boost::system::error_code ec)
{
    if (ec) {
        ++ctx_.metrics.tls_handshake_failures;
        spdlog::debug("TLS handshake from {} failed: {}", remote_address(), ec.message());
        return stream().tcp().close();
    }
    if (ctx_.options.http2.enabled && ctx_.start_http2) {
        // The client chose h2 by ALPN (tls_context.cpp): HTTP/2 over this TLS stream, no preface sniffing.
        unsigned char const* protocol = nullptr;
        unsigned int size = 0;
        SSL_get0_alpn_selected(stream().tls().native_handle(), &protocol, &size);
        if (std::string_view(reinterpret_cast<char const*>(protocol), protocol ? size : 0) == "h2")
            return start_http2();
    }
    read_request();
}

void http_connection::read_request()
{
    if (ctx_.stopping)
        return end_of_input();
    // A plain connection with nothing read ahead waits for its next request on the socket alone (await_request): a
    // kept-alive one, and a new one whose stream rests (stream_of), not one whose TLS sniff made Beast's state
    // already. Not one that pipelines: its next requests are mostly read already. One whose answers go out in
    // line (a publisher's) waits so too, while no write of the line is pending: resting takes the socket out of
    // Beast's stream, under a pending write's feet; a wait on the socket moves with it when a write wakes it.
    if ((spoke_http1_ || stream_.resting()) && !stream_.is_tls() && buffered() == 0 && !pipelining_ &&
        (!line_ || !line_->writing))
        return await_request();
    begin_request(deadline_list::clock::now() + ctx_.options.request_timeout);
}

void http_connection::await_request()
{
    // Beast's stream state, its read's pending operation, the read buffer and the parser (~1.7 KB) are made again
    // when the request's first bytes come. A long poll's client costs this between its answer and its next
    // poll: a message to 10,000 waiting polls answers them all in one turn, and each held all of it until its
    // next poll came (3.4 KB per poll after the fan-out, against 1.9 KB before it).
    reading_.reset();
    set_aside_.reset();
    aside_ = false;
    if (buffered() == 0)  // as read_request() waits here only then; bytes read ahead are never dropped
        buffer_.reset();
    idle_ = true;
    awaiting_request_ = true;
    stream_.rest();
    ctx_.keep_alive_waits.add(*this, ctx_.options.request_timeout);
    if (parked_ >= 0) {
        // A poll answered while it waited in the idle watch: its next one is awaited there too (woken()). Taken
        // back into Asio for the answer, every poll a message reaches would hold Asio's reactor entry at once
        // until its next poll came, and Asio pools those entries for good.
        parked_self_ = shared_from_this();
        return;
    }
    if (wait_handed_on_) {
        wait_handed_on_ = false;
        return;  // a long poll's: its departure watch's wait goes on as this one (on_socket_ready)
    }
    stream().socket().async_wait(
        boost::asio::socket_base::wait_read,
        exact_allocation([self = shared_from_this(), watch = ++watch_](boost::system::error_code ec) {
            self->on_socket_ready(watch, ec);
        }));
}

void http_connection::on_request_ready(boost::system::error_code ec)
{
    awaiting_request_ = false;
    auto const deadline = entry::deadline();  // the same deadline as a request read at once has
    ctx_.keep_alive_waits.remove(*this);
    if (ec || ctx_.stopping)  // its request_timeout passed (expired), or the server stops (close_if_idle)
        return end_of_input();  // nothing is owed: shut() makes the stream whole for the half-close
    begin_request(deadline);
}

void http_connection::begin_request(deadline_list::clock::time_point deadline)
{
    if (wait_handed_on_) {
        wait_handed_on_ = false;
        // Not waited for (bytes read ahead): the wait handed on would hold this connection until the socket is
        // next readable, and complete beside the request's own reads.
        boost::system::error_code ignored;
        stream().socket().cancel(ignored);
        ++watch_;
    }
    if (buffered() > 0)
        pipelining_ = true;  // this request came behind the last one, before its answer
    reading_ = std::make_unique<request_reading>();
    set_aside_.reset();
    aside_ = false;
    cors_origin_.reset();  // each request on a kept-alive connection is checked and authenticated anew
    identity_.reset();
    reading_->parser.header_limit(static_cast<std::uint32_t>(ctx_.options.max_header_size));
    reading_->parser.body_limit(ctx_.options.max_message_size);
    idle_ = true;
    // One deadline for the whole request, head and body: a client dribbling its bytes (slowloris) is cut off.
    reading_->deadline = deadline;
    if (stream_.resting()) {
        // The socket is readable (await_request): a request that is all there is read and handled on the socket
        // alone, and Beast's stream state (its deadline timers, ~550 bytes) is made again only for a request that
        // must be waited for. A long poll's next poll, and each request of a client that sends one at a time,
        // cost no stream state, no timer and no trip through the scheduler. Read through the loop's scratch
        // buffer and kept in a buffer of the bytes' own size: a read buffer of a read's size (4 KiB, for a head
        // with a browser's cookies) would be a block for which malloc consolidates its free lists.
        // A connection awaiting its next poll in the idle watch is read there, on its descriptor: a poll
        // that parks again costs no epoll_ctl (park() finds it parked).
        auto& scratch = read_scratch();
        auto const got = ::recv(descriptor(), scratch.data(),
                                std::min(buffer().max_size() - buffer().size(), scratch.size()), MSG_DONTWAIT);
        // An error, or nothing read yet: the asynchronous read meets it.
        auto const n = got > 0 ? static_cast<std::size_t>(got) : 0;
        buffer().commit(boost::asio::buffer_copy(buffer().prepare(n), boost::asio::buffer(scratch.data(), n)));
    } else {
        stream().tcp().expires_at(deadline);
    }
    parse_header();
}

void http_connection::wait_for_input()
{
    if (stream_.resting())
        stream().tcp().expires_at(reading_->deadline);  // wakes it
}

void http_connection::parse_header()
{
    auto& r = *reading_;
    if (!r.parser.got_some()) {
        // Empty lines before a request line are ignored (RFC 9112 2.2): some clients send one after a body.
        std::string_view const data(static_cast<char const*>(buffer().data().data()), buffer().size());
        std::size_t blank = 0;
        while (data.substr(blank, 2) == "\r\n")
            blank += 2;
        buffer().consume(blank);
        r.scanned -= std::min(r.scanned, blank);
    }
    if (!spoke_http1_ && ctx_.options.http2.enabled && ctx_.start_http2 && !stream_.is_tls()) {
        // h2c with prior knowledge (RFC 9113 3.3): the connection opens with the HTTP/2 preface. A prefix of it
        // waits for the rest; Beast would refuse "HTTP/2.0" as a version.
        std::string_view const data(static_cast<char const*>(buffer().data().data()), buffer().size());
        auto const n = std::min(data.size(), h2_preface.size());
        if (n > 0 && data.substr(0, n) == h2_preface.substr(0, n)) {
            if (n == h2_preface.size())
                return start_http2();
            auto const room = beast::read_size(buffer(), 65536);
            wait_for_input();
            return stream().async_read_some(buffer().prepare(room),
                                           [self = shared_from_this(), room](beast::error_code e, std::size_t got) {
                                               self->on_read_header(e, got, room);
                                           });
        }
    }
    // The head may take max_header_size bytes in all: neither the scanner nor the parser looks past them while it
    // is not over (when one buffer holds both, Beast bounds the start line and the fields apart, each by the whole
    // limit; requests read ahead put whole heads in the buffer).
    std::string_view const data = std::string_view(static_cast<char const*>(buffer().data().data()), buffer().size())
                                      .substr(0, ctx_.options.max_header_size - r.head_used);
    // Every byte goes through the scanner before the parser, which would unfold or normalize what it refuses.
    if (r.scanned < data.size()) {
        std::size_t looked_at = 0;
        if (r.scanner.scan(data.substr(r.scanned), looked_at) == header_scanner::verdict::bad) {
            // The parser still reads what comes before the offending byte: a request line saying HEAD means an
            // answer without a body.
            beast::error_code ignored;
            r.parser.put(boost::asio::buffer(data.data(), r.scanned + looked_at - 1), ignored);
            return refuse_request(error::bad_request, r.scanner.why());
        }
        r.scanned += looked_at;
    }
    beast::error_code ec;
    auto const used = r.parser.put(boost::asio::buffer(data), ec);  // stops at the end of the head
    buffer().consume(used);
    r.scanned -= std::min(r.scanned, used);
    r.head_used += used;
    if (r.parser.is_header_done())
        return on_header();
    if (ec == http::error::bad_version) {
        // Beast knows 1.0 and 1.1 alone: a later 1.x is read as 1.1 (RFC 9112 2.3), another major version is 505.
        auto const version = request_line_version(data);
        if (version >= 12 && version <= 19) {
            static_cast<char*>(buffer().data().data())[data.find("\r\n") - 1] = '1';
            return parse_header();
        }
        if (version >= 0 && version / 10 != 1)
            return refuse_request(error::version_not_supported,
                                  "HTTP/" + std::to_string(version / 10) + "." + std::to_string(version % 10) +
                                      " is not supported: speak HTTP/1.1");
    }
    if (ec && ec != http::error::need_more)
        return refuse_unparsable(ec);
    if (r.head_used + data.size() == ctx_.options.max_header_size)  // all of it here, and the head not over
        return refuse_request(r.scanner.in_request_line() ? error::uri_too_long : error::headers_too_large);
    if (buffer().size() == 0 && buffer().capacity() > idle_buffer_capacity)
        buffer().shrink_to_fit();  // a burst of pipelined requests is over: a waiting connection keeps little
    auto const room = beast::read_size(buffer(), 65536);
    if (room == 0)  // the buffer holds what one request may take, and the head is not over
        return refuse_request(error::headers_too_large);
    wait_for_input();
    stream().async_read_some(buffer().prepare(room),
                             [self = shared_from_this(), room](beast::error_code e, std::size_t n) {
                                 self->on_read_header(e, n, room);
                             });
}

void http_connection::on_read_header(boost::system::error_code ec, std::size_t n, std::size_t asked)
{
    buffer().commit(n);
    if (ec)
        return end_of_input();  // the client left, or the deadline passed, before a whole request head came
    // The read filled what it asked for (the buffer grows from small), or the client pipelines: take what else the
    // socket holds now, up to what one request may take, so that every request already sent is handled in this
    // turn. Not only when the read was full: a pipelining client that sends one request per answer (keeping
    // its window full) gives reads of a request or two, and without this each one's fan-out took its own flush
    // (one connection pipelining 64 publishes to 1,000 subscribers, Release build: 0.17 M deliveries/s, 3.1 M
    // with it). Clients that do not pipeline (browsers, long polls) skip the extra read.
    if ((n == asked || pipelining_) && !stream_.is_tls())
        read_ahead();
    parse_header();
}

void http_connection::start_http2()
{
    // The connection becomes an HTTP/2 session: its stream, its slot in the limits and the bytes read so far
    // (the preface, perhaps frames behind it) go to the h2_connection.
    idle_ = false;
    std::string leftover;
    connection_slot slot;
    auto stream = release(leftover, slot);
    ctx_.start_http2(std::move(stream), std::move(slot), std::move(leftover), remote_address_);
}

void http_connection::on_header()
{
    idle_ = false;
    spoke_http1_ = true;
    auto& req = request();
    std::string why;
    if (auto ec = check_request_head(req, why))
        return refuse_request(ec, why);
    if (auto ec = to_origin_form(req))
        return refuse_request(ec, "the request target's scheme must be http or https");
    if (expects_continue(req) && !reading_->parser.is_done()) {
        // The head decides first (RFC 9110 10.1.1): a request it refuses never has its body asked for.
        awaiting_body_ = true;
        return dispatch();
    }
    read_body();
}

void http_connection::refuse_request(boost::system::error_code ec, std::string_view why)
{
    // What follows in the stream cannot be trusted to start the next request: answer, then close.
    request().keep_alive(false);
    respond_error(ec, why);
}

void http_connection::refuse_unparsable(beast::error_code ec)
{
    if (ec == http::error::header_limit)
        return refuse_request(reading_->scanner.in_request_line() ? error::uri_too_long : error::headers_too_large);
    if (ec == http::error::body_limit)
        return refuse_request(error::message_too_large);
    if (ec == http::error::buffer_overflow)
        return refuse_request(error::bad_request, "a chunk-size line or the trailer section is too long");
    refuse_request(error::bad_request, ec.message());
}

void http_connection::read_body()
{
    // A body already read (a pipelined request's) is parsed now: an asynchronous read would complete through the
    // loop's queue, behind the turn's flush.
    beast::error_code ec;
    if (parse_buffered_body(ec) || ec)
        return on_read(ec, 0);
    idle_ = true;
    wait_for_input();
    http::async_read(stream(), buffer(), reading_->parser,
                     [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

bool http_connection::parse_buffered_body(boost::system::error_code& ec)
{
    reading_->parser.eager(true);  // the whole body in one put when it is there, not a piece per call
    while (!reading_->parser.is_done() && buffer().size() > 0) {
        auto const used = reading_->parser.put(buffer().data(), ec);
        buffer().consume(used);
        if (ec == http::error::need_more)
            ec = {};
        if (ec || used == 0)
            break;
    }
    return !ec && reading_->parser.is_done();
}

void http_connection::on_read(boost::system::error_code ec, std::size_t)
{
    idle_ = false;
    stream_.expires_never();
    if (ec == http::error::end_of_stream || ec == boost::asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::ssl::error::stream_truncated)
        return end_of_input();
    if (ec)
        return refuse_unparsable(ec);
    if (auto const* r = std::exchange(reading_->after_body, nullptr))
        return run(*r);
    dispatch();
}

void http_connection::run(route const& r)
{
    if (answers_owed() && (awaiting_body_ || !r.pipelines)) {
        // Its answer, or the stream it takes over, comes after theirs; a 100 Continue too.
        line_->deferred = &r;
        return;
    }
    if (awaiting_body_)
        return send_continue(r);
    if (r.pipelines)
        return hand_off(r);
    if (handling_)
        return exchange::run(r);  // within next_request's loop, which goes on once the action has returned
    // An action that answers at once still holds its request (a service route's handler may read it after its
    // answer): the next request, already read behind it, waits until the action returns, as in the loop.
    auto const self = shared_from_this();
    handling_ = true;
    again_ = false;
    exchange::run(r);
    handling_ = false;
    if (again_)
        next_request();
}

void http_connection::hand_off(route const& r)
{
    if (!line_)
        line_ = std::make_unique<answer_line>(*this);
    auto& req = reading_->parser.get();
    bool const keep_alive = req.keep_alive();
    std::size_t const held = reading_->head_used + req.body().size();
    line_->slots.push_back({{}, held});
    line_->held_bytes += held;
    auto const place = line_->front + line_->slots.size() - 1;
    auto const request = std::make_shared<pipelined_request>(shared_from_this(), ctx_, place, std::move(req),
                                                             std::move(reading_->parameters), std::move(identity_),
                                                             std::move(cors_origin_));
    reading_.reset();
    request->start(r);
    if (!keep_alive || !line_)
        return;  // its answer closes the connection (or it closed already): nothing more is read
    if (!line_has_room()) {
        line_->waiting_for_room = true;  // a client that sends and never reads holds no more than this
        return;
    }
    next_request();
}

bool http_connection::line_has_room() const noexcept
{
    // An answered request counts until its answer is written: a client that does not read its answers fills the
    // line too.
    return line_->slots.size() < ctx_.options.max_pending_commands &&
           line_->held_bytes < ctx_.options.max_pending_bytes;
}

void http_connection::answer_in_line(std::uint64_t place, http_response res, http_request const& req,
                                     std::string const& cors_origin)
{
    if (!line_ || place < line_->front || place - line_->front >= line_->slots.size())
        return;  // the connection closed meanwhile
    finish_answer(res, &req, cors_origin);
    auto& slot = line_->slots[place - line_->front];
    line_->held_bytes -= slot.held;
    slot = {serialize(res), 0, true, res.keep_alive()};
    schedule_line();  // with the turn's other answers to this client, in one write
    if (line_->waiting_for_room)
        go_on_later();  // its bytes are no longer held
}

void http_connection::schedule_line()
{
    // The flush owns the connection through its line (an aliasing pointer): from here to the flush, a connection
    // waiting on its line has no other owner (no read pending, every request answered).
    ctx_.flusher.schedule(std::shared_ptr<answer_line>(shared_from_this(), line_.get()));
}

bool http_connection::answers_owed() const noexcept
{
    return line_ && (!line_->slots.empty() || line_->writing);
}

void http_connection::write_line()
{
    if (!line_ || line_->writing)
        return;
    std::string out;
    bool keep_alive = true;
    while (keep_alive && !line_->slots.empty() && line_->slots.front().ready) {
        auto& s = line_->slots.front();
        out += s.bytes;
        keep_alive = s.keep_alive;  // nothing after an answer that closes
        line_->slots.pop_front();
        ++line_->front;
    }
    if (out.empty())
        return;
    output_ = std::make_unique<std::string>(std::move(out));
    line_->writing = true;
    send_output(keep_alive);
}

void http_connection::line_written()
{
    if (!line_->slots.empty() && line_->slots.front().ready)
        return write_line();
    // Every answer owed is out. While the server stops, none said Connection: close; a read still pending then
    // ends in end_of_input, which closes.
    if (line_->slots.empty() && (line_->closing || (ctx_.stopping && !idle_)))
        return shut();
    if (line_->deferred || line_->resume || line_->waiting_for_room)
        go_on_later();
}

void http_connection::go_on_later()
{
    // Not from inside the write (which may be the turn's flush) or an answer (a backplane's reply handler): the
    // next request's route runs on a stack of its own.
    boost::asio::post(stream().get_executor(), [self = shared_from_this()] { self->go_on(); });
}

void http_connection::go_on()
{
    if (!line_ || line_->writing)
        return;
    if (line_->slots.empty()) {
        if (auto const* r = std::exchange(line_->deferred, nullptr))
            return run(*r);
        if (std::exchange(line_->resume, false))
            return next_request();
    }
    if (line_->waiting_for_room && line_has_room()) {
        line_->waiting_for_room = false;
        next_request();
    }
}

void http_connection::end_of_input()
{
    if (!answers_owed())
        return shut();
    line_->closing = true;  // the answers owed still go out: a client may send its requests and half-close
}

void http_connection::send_continue(route const& r)
{
    // The head is accepted: now the body, then the route.
    awaiting_body_ = false;
    reading_->after_body = &r;
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    wait_for_input();  // a head read on the socket alone (await_request): the body is waited for
    boost::asio::async_write(stream(), boost::asio::buffer(interim),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 if (ec)
                                     return self->shut();
                                 self->read_body();
                             });
}

void http_connection::respond(http_response res)
{
    // A long poll's stream rests while it waits: the answer goes out on the socket alone, and Beast's state is
    // made again only if the socket does not take it at once (write_rest).
    if (ctx_.stopping || awaiting_body_)
        res.keep_alive(false);  // refused before its body was asked for: the client may send it still
    finish_answer(res, reading_ || aside_ ? &request() : nullptr, cors_origin());
    bool const keep_alive = res.keep_alive();
    if (answers_owed()) {
        // After the answers owed before it (a request refused while pipelined ones wait); the next request is
        // read once they are all out.
        line_->slots.push_back({serialize(res), 0, true, keep_alive});
        line_->resume = keep_alive;
        schedule_line();
        return;
    }
    output_ = std::make_unique<std::string>(serialize(res));
    send_output(keep_alive);
}

void http_connection::send_output(bool keep_alive)
{
    if (stream_.is_tls())
        return write_rest(0, keep_alive);
    // On the descriptor: a poll that waited in the idle watch is answered there (write_rest takes it back into
    // Asio if the socket does not take the whole answer).
    if (auto* batch = ctx_.flusher.batch(); batch && batch->collecting()) {
        // Answered in the turn's flush (long polls, as a message reaches them): one system call sends every poll
        // answer of the turn with the other transports' deliveries, as for a WebSocket or SSE stream.
        return batch->add(descriptor(), output_->data(), output_->size(),
                          std::make_shared<batched_answer>(shared_from_this(), keep_alive));
    }
    // An answer almost always fits the socket's buffer: send it now, and skip an asynchronous write's trip through
    // the scheduler (a long poll's answer, ~100k a second at full load, is mostly that trip).
    auto const n = ::send(descriptor(), output_->data(), output_->size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    answer_sent(n < 0 ? -errno : n, keep_alive);
}

void http_connection::answer_sent(ssize_t result, bool keep_alive)
{
    if (result < 0 && result != -EAGAIN && result != -EWOULDBLOCK)
        return on_write(boost::system::error_code(static_cast<int>(-result), boost::system::system_category()),
                        keep_alive);
    write_rest(result < 0 ? 0 : static_cast<std::size_t>(result), keep_alive);
}

void http_connection::write_rest(std::size_t sent, bool keep_alive)
{
    if (sent == output_->size())
        return on_write({}, keep_alive);
    stream().tcp().expires_after(ctx_.options.request_timeout);  // wakes a resting stream (a long poll's)
    boost::asio::async_write(stream(), boost::asio::buffer(*output_) + sent,
                             [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                                 self->on_write(ec, keep_alive);
                             });
}

void http_connection::on_write(boost::system::error_code ec, bool keep_alive)
{
    output_.reset();  // an idle kept-alive connection holds no answer
    bool const from_line = line_ && std::exchange(line_->writing, false);
    if ((ec || !keep_alive) && from_line && idle_) {
        // The next request's read is pending beside the line's write: shut's drain cannot start another. The
        // client is gone (ec), or the server stops.
        line_.reset();
        return stream().close();
    }
    if (ec || !keep_alive)
        return shut();
    if (from_line)
        return line_written();
    next_request();
}

void http_connection::next_request()
{
    // Called from inside the loop below (an answer given at once): it goes on from there, so that a run of
    // pipelined requests is a loop, not a recursion.
    if (handling_) {
        again_ = true;
        return;
    }
    auto const self = shared_from_this();
    handling_ = true;
    std::size_t handled = 0;
    do {
        again_ = false;
        if (++handled > max_requests_per_turn) {
            // The rest after the turn's flush and the other connections' ready handlers.
            boost::asio::post(ctx_.executor, [self] { self->read_request(); });  // a parked stream has no socket
            break;
        }
        read_request();  // handles the next request now if it is already read
    } while (again_);
    handling_ = false;
}

void http_connection::shut()
{
    line_.reset();  // answers still to come have nowhere to go
    // Half-close and drain what the client still sends until its EOF (bounded in time): closing with unread
    // input makes the kernel reset the connection, which can destroy the answer we just wrote. (tcp() wakes a
    // resting stream.)
    stream().tcp().expires_after(std::chrono::seconds(2));
    if (stream_.is_tls()) {
        // TLS's own half-close: close_notify, then wait for the client's (or its EOF, or the deadline).
        return stream().tls().async_shutdown([self = shared_from_this()](beast::error_code) { self->stream().tcp().close(); });
    }
    beast::error_code ec;
    stream().tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    if (ec)
        return stream().tcp().close();
    drain();
}

void http_connection::drain()
{
    buffer().clear();
    stream().async_read_some(buffer().prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec)
            return self->stream().tcp().close();
        self->drain();
    });
}

connection_stream http_connection::release(std::string& leftover, connection_slot& slot)
{
    slot = std::move(slot_);
    auto const data = buffer().data();
    leftover.assign(static_cast<char const*>(data.data()), data.size());
    buffer().consume(buffer().size());
    idle_ = false;
    stream_.expires_never();
    // Resting, a plain stream moves on as a pointer to its socket, however many hands it passes through (the
    // channel, its io); moving Beast's stream would make its state anew at each. Over TLS it is a pointer anyway.
    stream_.rest();
    return std::move(stream());  // this connection is done with it; nothing here touches it again
}

void http_connection::watch_for_departure(departure_listener& listener)
{
    if (stream_.is_tls())
        return;  // a TLS record may be readable without application data: not worth decoding for this
    watching_ = true;
    gone_ = &listener;
    ++watch_;
    // A poll parks at once. Answered on the parked descriptor, and its connection's next poll read there too, a
    // client that polls on never leaves the idle watch, and its cycle costs no epoll_ctl call, whatever its message
    // rate (docs/benchmarks.md). In Asio, a connect storm of polls, or a message to every waiting poll that has
    // them all poll again, would have each hold Asio's reactor entry (~170 B, which Asio pools once freed) and its
    // pending wait, all at once. Not a poll whose connection closes after its answer (HTTP/1.0, Connection:
    // close): its client's next poll comes on a new connection, and parking each one would cost epoll_ctl calls.
    if (aside_keep_alive_ && park())
        return;
    await_departure(watch_);
}

void http_connection::await_departure(std::uint32_t watch)
{
    stream().socket().async_wait(boost::asio::socket_base::wait_read,
                                exact_allocation([self = shared_from_this(), watch](boost::system::error_code ec) {
                                    self->on_socket_ready(watch, ec);
                                }));
    // A poll that did not park at once (its connection closes after its answer; the idle watch could not take it)
    // parks after two quiet ticks. Only a resting stream parks (a poll's, not a service route's).
    if (ctx_.options.park_idle && stream_.resting() && !entry::waiting())
        ctx_.poll_parking.add(*this, 2 * ctx_.keepalive.period());
}

void http_connection::on_socket_ready(std::uint32_t watch, boost::system::error_code ec)
{
    if (watch != watch_)
        return;  // parked or cancelled meanwhile: a later wait is current
    if (awaiting_request_)
        return on_request_ready(ec);  // handed on to await_request, or its own
    if (wait_handed_on_) {
        wait_handed_on_ = false;
        // Input (or the client's end) while the answer is written: the next request's wait is made anew, and
        // finds it at once.
        ++watch_;
        return;
    }
    if (ec || !watching_)
        return;  // answered meanwhile
    check_departure();
}

void http_connection::check_departure()
{
    switch (read_ahead()) {
    case early_input::open:
        if (buffered() == 0)
            buffer_.reset();  // nothing came ahead of the answer (a wake for nothing): the poll waits without it
        return await_departure(watch_);
    case early_input::ended:
        return departed();
    case early_input::full:
        watching_ = false;  // noticed when the answer is written
        ctx_.poll_parking.remove(*this);
        return;
    }
}

void http_connection::expired()
{
    if (awaiting_request_)
        return cancel_request_wait();  // request_timeout passed with no request: the connection closes
    if (watching_)
        park();
}

bool http_connection::park()
{
    // Asio's reactor entry for the socket, the pending wait and the socket object (~500 bytes) are freed while
    // the poll waits on.
    if (!ctx_.options.park_idle || !stream_.resting() || parked_ >= 0)
        return parked_ >= 0;  // parked already, or not to be (io.park_idle off, a service route's stream)
    boost::system::error_code ec;
    if (!protocol_known_) {
        // Asked once (a system call): a client that polls slowly parks at each poll, and its socket's protocol
        // does not change.
        parked_v6_ = stream().socket().local_endpoint(ec).address().is_v6();
        if (ec)
            return false;
        protocol_known_ = true;
    }
    int const fd = stream_.park(ec);  // a pending wait completes as cancelled
    if (ec)
        return false;
    ++watch_;  // and belongs to no watch
    if (ctx_.idle.park(fd, *this)) {
        parked_ = fd;
        return true;
    }
    // The idle watch cannot take it (the loop is stopping): back to Asio. A socket Asio cannot take back either
    // is lost, and the answer's write finds it so.
    if (adopt(fd))
        await_departure(watch_);
    return true;
}

void http_connection::woken()
{
    // departed() may let the poll go, and this connection with it; a connection awaiting its next request here
    // holds itself (await_request).
    auto const self = parked_self_ ? std::move(parked_self_) : shared_from_this();
    if (awaiting_request_)
        return on_request_ready({});  // read on the parked descriptor (begin_request)
    bool const taken = unpark();
    if (!watching_)
        return;  // its answer is on its way (stop_watching), through Asio now
    if (taken)
        return check_departure();
    departed();  // the socket is lost: as good as gone
}

void http_connection::departed()
{
    watching_ = false;
    ctx_.poll_parking.remove(*this);
    if (auto* const gone = std::exchange(gone_, nullptr))
        gone->departed();
}

connection_stream& http_connection::stream()
{
    // A parked socket comes back into Asio for whatever needs it: nothing reaches a parked stream's missing socket.
    // A socket lost here is closed, and the stream's operations find it so.
    unpark();
    return stream_;
}

bool http_connection::unpark()
{
    if (parked_ < 0)
        return true;
    int const fd = std::exchange(parked_, -1);
    ctx_.idle.unpark(fd, *this);
    return adopt(fd);
}

void http_connection::cancel_request_wait()
{
    if (parked_ >= 0) {
        // Awaited in the idle watch: in Asio from now on, for cancel() to end the wait as any other. A socket lost
        // here is closed, and the wait completes at once.
        auto const self = std::move(parked_self_);
        stream().socket().async_wait(
            boost::asio::socket_base::wait_read,
            exact_allocation([self = shared_from_this(), watch = ++watch_](boost::system::error_code ec) {
                self->on_socket_ready(watch, ec);
            }));
    }
    boost::system::error_code ignored;
    stream().socket().cancel(ignored);  // completes as cancelled: on_request_ready ends the connection
}

int http_connection::descriptor()
{
    return parked_ >= 0 ? parked_ : stream_.socket().native_handle();
}

bool http_connection::adopt(int fd)
{
    return stream_.unpark(ctx_.executor, parked_v6_, fd);
}

http_connection::early_input http_connection::read_ahead()
{
    // Reads what the socket holds now (non-blocking) into the buffer requests are read from, up to what one
    // request may take: pipelined requests, and for a waiting poll the bytes ahead of the client's FIN, which
    // would hide it from a peek (then the FIN, when it comes, wakes the watch again).
    auto& socket = stream().socket();
    while (buffer().size() < buffer().max_size()) {
        auto const room = std::min<std::size_t>(buffer().max_size() - buffer().size(), 16 * 1024);
        boost::system::error_code ec;
        buffer().commit(socket.read_some(buffer().prepare(room), ec));
        if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again)
            return early_input::open;
        if (ec)
            return early_input::ended;  // EOF or reset
    }
    return early_input::full;
}

void http_connection::stop_watching()
{
    if (!watching_)
        return;
    watching_ = false;
    gone_ = nullptr;
    ctx_.poll_parking.remove(*this);
    if (parked_ >= 0) {
        // The answer is written on the parked descriptor (send_output), and the next request awaited and read in
        // the idle watch (await_request, begin_request).
        return;
    }
    // The wait stays pending, for the next request (await_request) once the answer is out: a long poll's cycle
    // then costs one socket wait, not a wait cancelled (a trip through the loop) and another made (an epoll_ctl).
    wait_handed_on_ = true;
}

http_request& http_connection::request()
{
    if (reading_)
        return reading_->parser.get();
    if (!set_aside_) {
        // For the answer, once: a waiting poll holds three fields, not a request (120 bytes of heap).
        set_aside_ = std::make_unique<http_request>();
        set_aside_->version(aside_version_);
        set_aside_->method(static_cast<http::verb>(aside_method_));
        set_aside_->keep_alive(aside_keep_alive_);
    }
    return *set_aside_;
}

query const& http_connection::parameters() const noexcept
{
    static query const none;
    return reading_ ? reading_->parameters : none;
}

query& http_connection::request_query()
{
    // dispatch() runs on a request read whole: its reading state is there (a refusal's too).
    return reading_->parameters;
}

void http_connection::set_aside_request()
{
    auto const& req = request();
    aside_version_ = static_cast<std::uint8_t>(req.version());
    aside_method_ = static_cast<std::uint8_t>(req.method());
    aside_keep_alive_ = req.keep_alive();
    aside_ = true;
    set_aside_.reset();
    reading_.reset();
    if (buffered() == 0)
        buffer_.reset();  // bytes of a pipelined request stay for the next read
    stream_.rest();  // no deadline while the answer is held: the socket alone, until respond()
}

void http_connection::abandon()
{
    stop_watching();
    stream().close();
}

void http_connection::close_if_idle()
{
    if (awaiting_request_)
        cancel_request_wait();
    else if (idle_)
        stream().tcp().cancel();
}

}  // namespace switchboard::detail
