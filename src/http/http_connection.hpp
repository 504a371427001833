#pragma once
// One HTTP/1.1 connection before it becomes a stream: reads requests (bounded in header size, body size and
// time), hands each to its route, writes the answer and reads the next one while keep-alive allows. A request
// whose framing is in doubt (request_framing.hpp) is refused and the connection closed; a connection past a
// limit is refused at once, before its request.
// A streaming transport takes the stream over with release(); long polling holds the connection and answers
// later with respond(). A route that answers with respond() alone (route::pipelines: publish) runs as a
// pipelined_request, and the connection reads its next request at once: a client pipelining such requests has
// them all in flight, and their answers go out in order from the connection's line of answers, bounded by
// limits.max_pending_commands and limits.max_pending_bytes (past them the connection stops reading until answers
// go out). Any other request waits until every answer owed before it is out.
// With TLS configured, the first byte decides: a TLS handshake record starts the handshake (bounded by
// request_timeout), anything else is plain HTTP (or closed when TLS is required).

#include <switchboard/identity.hpp>
#include <switchboard/server.hpp>

#include "core/deadline_list.hpp"
#include "core/idle_watch.hpp"
#include "core/slot_list.hpp"
#include "http/connection_slot.hpp"
#include "http/connection_stream.hpp"
#include "http/exchange.hpp"
#include "http/query.hpp"
#include "http/request_framing.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

struct server_context;

class http_connection final : public exchange, private deadline_list::entry, private idle_watch::sleeper {
public:
    http_connection(boost::asio::ip::tcp::socket socket, server_context& ctx);
    ~http_connection();

    void start();
    /// The expiry of the lists it waits in (keep_alive_waits, poll_parking).
    static void expire(deadline_list::entry& due) { static_cast<http_connection&>(due).expired(); }

    std::shared_ptr<http_connection> shared_from_this()
    {
        return std::static_pointer_cast<http_connection>(exchange::shared_from_this());
    }

    /// The request being read, or the one set aside, made again from what set_aside_request kept.
    http_request& request() override;
    /// The query of the request being read and answered; empty once it is set aside, and between requests.
    query const& parameters() const noexcept override;
    /// Writes `res`, then reads the next request if keep-alive allows, else closes. During the loop turn's flush
    /// (a long poll answered as its messages arrive) the write joins the turn's send batch.
    void respond(http_response res) override;
    /// Hands the stream to a streaming transport (or an HTTP/2 session), resting (connection_stream::rest) when
    /// plain; `leftover` gets bytes already read past the request, `slot` the connection's place in the limits.
    connection_stream release(std::string& leftover, connection_slot& slot);
    /// The request came over TLS.
    bool secure() const noexcept override { return stream_.is_tls(); }
    http_connection* http1() noexcept override { return this; }

    /// Closes the connection if it is waiting for a request (server stopping).
    void close_if_idle();

    /// While a route holds the request unanswered (a long poll), calls `gone` if the client closes its end: the
    /// server is not reading meanwhile, and would otherwise keep a departed client's slot until the answer.
    /// Bytes the client sends early (a pipelined request) are read into the buffer the next request is read
    /// from, up to what one request may take (max_header_size + max_message_size), so that the end of input
    /// behind them shows; past that, the departure is noticed when the answer is written. Plain TCP only.
    /// The watch waits in the loop's idle_watch instead of Asio (io.park_idle): at once, unless the connection
    /// closes after its answer; then once quiet for two keepalive ticks.
    void watch_for_departure(departure_listener& listener) override;
    /// Stops that watch; call before answering.
    void stop_watching() override;
    /// For a route that answers later (a long poll) and is done reading the request: frees the parsed request,
    /// its query and the empty read buffer, keeping in request() only what an answer needs (version, method,
    /// keep-alive), and lets a plain stream rest (connection_stream::rest) until the answer.
    void set_aside_request() override;
    /// Drops the connection without an answer (the client is gone).
    void abandon() override;

    /// How the answer's send in the turn's batch went: bytes sent, or -errno.
    void answer_sent(ssize_t result, bool keep_alive);

    /// A pipelined request's answer (pipelined_request::respond): it goes out at the turn's flush once every
    /// answer before its `place` has. `req` and `cors_origin` are its request's.
    void answer_in_line(std::uint64_t place, http_response res, http_request const& req,
                        std::string const& cors_origin);

private:
    enum class early_input { open, ended, full };
    struct answer_line;

    /// Past a connection limit (`refused`, with `retry_after` when rate_limited): answered at once, and closed.
    void refuse_connection(boost::system::error_code refused, std::chrono::milliseconds retry_after);
    void detect_tls();
    void on_detect(boost::system::error_code ec, bool tls);
    void on_handshake(boost::system::error_code ec);
    /// Reads the next request: at once, or once its first bytes come (await_request).
    void read_request();
    /// Waits for the next request on the socket alone, Beast's stream state resting, within request_timeout
    /// (keep_alive_waits).
    void await_request();
    void on_request_ready(boost::system::error_code ec);
    /// Reads a request whose head and body must be in by `deadline`.
    void begin_request(deadline_list::clock::time_point deadline);
    void parse_header();
    /// Before a read that may wait: a resting stream wakes, with the request's deadline.
    void wait_for_input();
    void on_read_header(boost::system::error_code ec, std::size_t n, std::size_t asked);
    void on_header();
    void start_http2();
    void refuse_request(boost::system::error_code ec, std::string_view why = {});
    void refuse_unparsable(boost::system::error_code ec);
    void read_body();
    /// Parses the body from what is already read; true when the request is complete.
    bool parse_buffered_body(boost::system::error_code& ec);
    void on_read(boost::system::error_code ec, std::size_t);
    void run(route const& r) override;
    query& request_query() override;
    /// Runs the request as a pipelined_request and reads the next one, while the line has room.
    void hand_off(route const& r);
    void send_continue(route const& r);
    /// Fewer unanswered or unwritten requests than limits.max_pending_commands, and their bytes under
    /// limits.max_pending_bytes.
    bool line_has_room() const noexcept;
    /// Answers owed: in the line, or being written from it.
    bool answers_owed() const noexcept;
    /// The line goes out at the turn's flush.
    void schedule_line();
    /// Writes the ready answers at the front of the line, together.
    void write_line();
    /// The line's write is done: the next ready answers, or what waited for the line goes on.
    void line_written();
    /// What waited for the line (a deferred request, the next request, room) goes on.
    void go_on();
    /// go_on from a handler of its own.
    void go_on_later();
    /// The client's input ended or failed: closed now, or once the answers owed are out.
    void end_of_input();
    /// Sends output_: into the turn's send batch during the flush, else what the socket takes now and the rest
    /// asynchronously; on_write when it is out.
    void send_output(bool keep_alive);
    void await_departure(std::uint32_t watch);
    /// The socket wait `watch` completed: the departure watch's, or the next request's once handed on.
    void on_socket_ready(std::uint32_t watch, boost::system::error_code ec);
    /// The departure watch saw input or the client's end.
    void check_departure();
    /// The client is gone: the watch ends and tells its callback.
    void departed();
    early_input read_ahead();
    /// The departure watch has been quiet since poll_parking's deadline: it waits in the idle watch from now on.
    /// Or, waiting for a request (keep_alive_waits), request_timeout passed: the connection closes.
    void expired();
    /// The departure watch waits in the idle watch from now on (io.park_idle, a resting stream), or in Asio again
    /// if the idle watch cannot take it. False when nothing changed: a pending socket wait goes on.
    bool park();
    /// Input or the client's end on the parked socket.
    void woken() override;
    /// The stream, its socket taken back into Asio first if it is parked. Only is_tls(), resting(), rest() and
    /// expires_never() (nothing to do while resting) are asked of stream_ itself, and the parked descriptor is read
    /// and written directly.
    connection_stream& stream();
    /// Takes a parked socket back into Asio; false when it is lost.
    bool unpark();
    /// Ends the wait for the next request as cancelled (request_timeout, the server's stop); one in the idle watch
    /// is made in Asio first.
    void cancel_request_wait();
    /// The socket's descriptor, parked or not (plain TCP), for what is sent and read on it directly.
    int descriptor();
    /// Gives `fd` (parked) back to the resting stream; false, and `fd` closed, when Asio cannot take it.
    bool adopt(int fd);
    /// The answer's bytes past `sent` go out asynchronously, if any are left.
    void write_rest(std::size_t sent, bool keep_alive);
    void on_write(boost::system::error_code ec, bool keep_alive);
    void next_request();
    void shut();
    void drain();
    /// The read buffer, made if missing: it holds at most what one request may take (max_header_size +
    /// max_message_size).
    boost::beast::flat_buffer& buffer();
    std::size_t buffered() const noexcept { return buffer_ ? buffer_->size() : 0; }

    connection_stream stream_;
    connection_slot slot_;
    // What was read and not yet parsed: made for a read, and dropped once empty where the connection waits (a
    // long poll, the next request): 8 bytes of a waiting connection where the buffer object is 48.
    std::unique_ptr<boost::beast::flat_buffer> buffer_;
    // One request being read, or read and not set aside: made by begin_request, in one block with Beast's
    // parser. Out of line: a waiting long poll or a kept-alive connection between requests holds none of it
    // (set_aside_request keeps the request's version, method and keep-alive in aside_*; its answer makes
    // set_aside_ from them).
    struct request_reading {
        boost::beast::http::request_parser<boost::beast::http::string_body> parser;
        header_scanner scanner;
        std::size_t scanned = 0;    // bytes at the front of the buffer that scanner has seen
        std::size_t head_used = 0;  // bytes of this head the parser has taken: it may take max_header_size
        route const* after_body = nullptr;  // the route to run once the body asked for with 100 Continue is read
        query parameters;  // the target's, parsed by dispatch()
        // The whole request's, head and body; set on Beast's stream once a read waits (wait_for_input).
        deadline_list::clock::time_point deadline;
    };
    std::unique_ptr<request_reading> reading_;
    std::unique_ptr<http_request> set_aside_;
    // The answer being written, only while it is: 8 bytes of every connection where a string is 32.
    std::unique_ptr<std::string> output_;
    // Flags in bits: a waiting poll is mostly this object, and every byte of it counts (docs/benchmarks.md).
    bool idle_ : 1 = false;
    bool spoke_http1_ : 1 = false;  // a request came: the HTTP/2 preface may no longer start the connection
    bool handling_ : 1 = false;  // inside next_request's loop
    bool again_ : 1 = false;     // an answer was given inside it: read the next request
    bool pipelining_ : 1 = false;  // a request has arrived behind another: read ahead from now on
    bool watching_ : 1 = false;
    bool parked_v6_ : 1 = false;  // the parked socket's protocol, to take it back
    bool protocol_known_ : 1 = false;  // parked_v6_ is set
    bool lingering_refusal_ : 1 = false;  // counted in server_context::lingering_refusals
    bool awaiting_body_ : 1 = false;  // Expect: 100-continue, and the body not asked for yet
    bool awaiting_request_ : 1 = false;  // await_request's wait is pending
    // The departure watch ended with its socket wait still pending: the next request's wait, if the connection
    // waits for one (await_request), instead of one more wait (an epoll_ctl call each) after a cancelled one.
    bool wait_handed_on_ : 1 = false;
    bool aside_ : 1 = false;  // the request is set aside (set_aside_request)
    bool aside_keep_alive_ : 1 = false;
    std::uint8_t aside_version_ = 0;  // 10 or 11
    std::uint8_t aside_method_ = 0;   // a boost::beast::http::verb
    // A waiting poll's descriptor while its departure watch waits in the idle watch, and, once answered there, while
    // its next request is awaited there.
    int parked_ = -1;
    std::uint32_t watch_ = 0;  // which socket wait is current (on_socket_ready): a departure watch's, or one handed on
    friend class slot_list<http_connection>;
    std::uint32_t list_slot_ = ~std::uint32_t{0};  // in server_context::http_connections
    departure_listener* gone_ = nullptr;  // what the departure watch tells
    std::unique_ptr<answer_line> line_;  // made when the connection first pipelines a request (hand_off)
    // While the next request is awaited in the idle watch, nothing else holds the connection: it holds itself,
    // until woken() or cancel_request_wait().
    std::shared_ptr<http_connection> parked_self_;
};

}  // namespace switchboard::detail
