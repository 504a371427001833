#pragma once
// One HTTP/1.1 connection before it becomes a stream: reads requests (bounded in header size, body size and
// time), hands each to its route, writes the answer and reads the next one while keep-alive allows. A request
// whose framing is in doubt (request_framing.hpp) is refused and the connection closed; a connection past a
// limit is refused at once, before its request.
// A streaming transport takes the stream over with release(); long polling holds the connection and answers
// later with respond(). With TLS configured, the first byte decides: a TLS handshake record starts the
// handshake (bounded by request_timeout), anything else is plain HTTP (or closed when TLS is required).

#include <switchboard/identity.hpp>
#include <switchboard/server.hpp>

#include "http/connection_slot.hpp"
#include "http/connection_stream.hpp"
#include "http/query.hpp"
#include "http/request_framing.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

struct server_context;
class http_connection;

/// A route's handler: it must answer (respond) or take the connection (release), now or later.
using route_action = std::function<void(std::shared_ptr<http_connection> const&)>;

struct route {
    std::vector<boost::beast::http::verb> methods;  // with GET, HEAD too: the action runs, the body is not sent
    route_action action;
    /// For the transports and POST /publish: the name authentication sees ("websocket", "sse", "long-polling",
    /// "publish"). A named route checks the Origin, answers CORS preflights and authenticates every request
    /// before its action runs; an unnamed one (operator endpoints, the service's own routes) does none of that.
    std::string_view secured_as = {};
};

using route_table = std::unordered_map<std::string, route>;

class http_connection : public std::enable_shared_from_this<http_connection> {
public:
    http_connection(boost::asio::ip::tcp::socket socket, server_context& ctx, route_table const& routes);
    ~http_connection();

    void start();

    http_request& request() noexcept { return parser_->get(); }
    /// The request target's query, parsed once when the request was routed.
    query const& parameters() const noexcept { return query_; }
    std::string const& remote_address() const noexcept { return remote_address_; }
    /// The client's address without the port.
    std::string client_ip() const;
    /// Who authentication found the client to be (a secured route's action runs only after it did).
    identity_ptr const& identity() const noexcept { return identity_; }
    /// The request's Origin when it is on the allow-list (its answers carry CORS fields), else "".
    std::string const& cors_origin() const noexcept { return cors_origin_; }

    /// Writes `res`, then reads the next request if keep-alive allows, else closes. During the loop turn's flush
    /// (a long poll answered as its messages arrive) the write joins the turn's send batch.
    void respond(http_response res);
    void respond_error(boost::system::error_code ec, std::string_view message = {});
    /// 429 rate_limited with Retry-After (whole seconds, rounded up).
    void respond_rate_limited(std::chrono::milliseconds retry_after);

    /// Hands the stream to a streaming transport; `leftover` gets bytes already read past the request, `slot`
    /// the connection's place in the limits.
    connection_stream release(std::string& leftover, connection_slot& slot);
    /// The request came over TLS.
    bool secure() const noexcept { return stream_.is_tls(); }

    /// Closes the connection if it is waiting for a request (server stopping).
    void close_if_idle();

    /// While a route holds the request unanswered (a long poll), calls `gone` if the client closes its end: the
    /// server is not reading meanwhile, and would otherwise keep a departed client's slot until the answer.
    /// Bytes the client sends early (a pipelined request) are read into the buffer the next request is read
    /// from, up to what one request may take (max_header_size + max_message_size), so that the end of input
    /// behind them shows; past that, the departure is noticed when the answer is written. Plain TCP only.
    void watch_for_departure(std::function<void()> gone);
    /// Stops that watch; call before answering.
    void stop_watching();
    /// For a route that answers later (a long poll) and is done reading the request: frees the parsed request,
    /// its query and the empty read buffer, keeping in request() only what an answer needs (version, method,
    /// keep-alive).
    void set_aside_request();
    /// Drops the connection without an answer (the client is gone).
    void abandon();

    /// How the answer's send in the turn's batch went: bytes sent, or -errno.
    void answer_sent(ssize_t result);

private:
    enum class early_input { open, ended, full };

    void refuse_connection();
    void detect_tls();
    void on_detect(boost::system::error_code ec, bool tls);
    void on_handshake(boost::system::error_code ec);
    void read_request();
    void parse_header();
    void on_read_header(boost::system::error_code ec, std::size_t n, std::size_t asked);
    void on_header();
    void refuse_request(boost::system::error_code ec, std::string_view why = {});
    void refuse_unparsable(boost::system::error_code ec);
    void read_body();
    /// Parses the body from what is already read; true when the request is complete.
    bool parse_buffered_body(boost::system::error_code& ec);
    void on_read(boost::system::error_code ec, std::size_t);
    void dispatch();
    void answer_options();
    void run(route const& r);
    void send_continue(route const& r);
    void await_departure(std::uint32_t watch, std::function<void()> gone);
    early_input read_ahead();
    /// The answer's bytes past `sent` go out asynchronously, if any are left.
    void write_rest(std::size_t sent, bool keep_alive);
    void on_write(boost::system::error_code ec, bool keep_alive);
    void next_request();
    void shut();
    void drain();

    connection_stream stream_;
    server_context& ctx_;
    route_table const& routes_;
    std::string remote_address_;
    connection_slot slot_;
    boost::system::error_code refused_;  // past a connection limit: answered at once, and closed
    std::chrono::milliseconds retry_after_{0};  // when refused_ is rate_limited
    bool lingering_refusal_ = false;  // counted in server_context::lingering_refusals
    identity_ptr identity_;
    std::string cors_origin_;
    query query_;
    boost::beast::flat_buffer buffer_;  // at most what one request may take: max_header_size + max_message_size
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    header_scanner scanner_;
    std::size_t scanned_ = 0;  // bytes at the front of buffer_ that scanner_ has seen
    std::size_t head_used_ = 0;  // bytes of this request's head the parser has taken: it may take max_header_size
    bool awaiting_body_ = false;  // Expect: 100-continue, and the body not asked for yet
    route const* after_body_ = nullptr;  // the route to run once the body asked for with 100 Continue is read
    std::string output_;  // the answer being written
    bool idle_ = false;
    bool handling_ = false;  // inside next_request's loop
    bool again_ = false;     // an answer was given inside it: read the next request
    bool pipelining_ = false;  // a request has arrived behind another: read ahead from now on
    bool watching_ = false;
    bool batched_keep_alive_ = false;  // the keep-alive of the answer in the send batch
    std::uint32_t watch_ = 0;  // which watch_for_departure is current
};

}  // namespace switchboard::detail
