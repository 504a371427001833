#pragma once
// One request and its answer, whatever carries them: an HTTP/1.1 connection (http_connection) or an HTTP/2
// stream (h2_stream). Route actions see only this, so every route serves both the same way. dispatch() routes the
// request and runs a secured route's checks (Origin, CORS preflight, method, authentication) before its action,
// for both carriers alike. Loop thread only.

#include <switchboard/detail/packed_address.hpp>
#include <switchboard/http.hpp>
#include <switchboard/identity.hpp>

#include "http/query.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

class channel_services;
struct server_context;
class exchange;
class http_connection;
class channel_io;
class io_owner;

/// A route's handler: it must answer (respond) or take the connection (release), now or later.
using route_action = std::function<void(std::shared_ptr<exchange> const&)>;

struct route {
    std::vector<boost::beast::http::verb> methods;  // with GET, HEAD too: the action runs, the body is not sent
    route_action action;
    /// For the transports, POST /publish and GET /presence: the name authentication sees ("websocket", "sse",
    /// "long-polling", "publish", "presence"). A named route checks the Origin, answers CORS preflights and
    /// authenticates every request before its action runs; an unnamed one (operator endpoints, the service's own
    /// routes) does none of that.
    std::string_view secured_as = {};
    /// Its requests may run while earlier ones on their HTTP/1.1 connection wait for their answers (which still
    /// go out in order): true only for a route that answers with respond() alone, and never takes the
    /// connection, watches for the client's departure or sets its request aside (pipelined_request.hpp).
    bool pipelines = false;
};

using route_table = std::unordered_map<std::string, route>;

/// A route holding a request unanswered (a long poll, a service route's call), told when its client leaves
/// (exchange::watch_for_departure). Held by a plain pointer: a callback was 32 bytes and a block of its own in
/// every waiting poll's connection, and a weak_ptr 16 bytes. So a listener holds its exchange while it watches,
/// and stops the watch (exchange::stop_watching) before it lets go of it: in its destructor at the latest.
class departure_listener {
public:
    /// The client closed the connection, or reset the stream, before the answer.
    virtual void departed() = 0;

protected:
    ~departure_listener() = default;
};

class exchange : public std::enable_shared_from_this<exchange> {
public:
    exchange(server_context& ctx, packed_address remote_address)
        : ctx_(ctx), remote_address_(std::move(remote_address))
    {
    }
    virtual ~exchange() = default;

    /// The request being answered. Not noexcept: an HTTP/1.1 connection makes again the request it set aside.
    virtual http_request& request() = 0;
    /// The request target's query, parsed once when the request was routed (empty once the request is set aside).
    virtual query const& parameters() const noexcept = 0;
    /// Its loop's: what a channel made of this exchange serves through too.
    channel_services& services() const noexcept;
    /// "IP:port", spelled when asked for (packed_address).
    std::string remote_address() const { return remote_address_.text(); }
    /// The same, as held: what a channel made of this exchange holds too.
    packed_address const& packed_remote_address() const noexcept { return remote_address_; }
    /// The client's address without the port.
    std::string client_ip() const;
    /// Who authentication found the client to be (a secured route's action runs only after it did).
    identity_ptr const& identity() const noexcept { return identity_; }
    /// The request's Origin when it is on the allow-list (its answers carry CORS fields), else "".
    std::string const& cors_origin() const noexcept;

    /// Sends `res` (HEAD: without its body; with CORS fields when the Origin was allowed).
    virtual void respond(http_response res) = 0;
    void respond_error(boost::system::error_code ec, std::string_view message = {});
    /// 429 rate_limited with Retry-After (whole seconds, rounded up).
    void respond_rate_limited(std::chrono::milliseconds retry_after);
    /// The request came over TLS.
    virtual bool secure() const noexcept = 0;

    /// While a route holds the request unanswered (a long poll), tells `listener` when the client leaves (closes the
    /// connection, or resets the stream) before the answer, once, and forgets it first.
    virtual void watch_for_departure(departure_listener& listener) = 0;
    /// Stops that watch; call before answering.
    virtual void stop_watching() = 0;
    /// For a route that answers later: frees what only reading the request needed.
    virtual void set_aside_request() = 0;
    /// Drops the request without an answer (the client is gone).
    virtual void abandon() = 0;

    /// The HTTP/1.1 connection carrying this exchange, for the routes that take its byte stream over (SSE,
    /// WebSocket); null over HTTP/2.
    virtual http_connection* http1() noexcept { return nullptr; }
    /// Makes a push channel's byte stream for its owner (push_channel::io_factory).
    using push_io_factory = std::function<std::unique_ptr<channel_io>(io_owner&)>;
    /// Over HTTP/2: what makes the stream the byte stream of a push channel (SSE); empty over HTTP/1.1 (take
    /// the connection with http1()->release()).
    virtual push_io_factory push_io() { return {}; }
    /// Over HTTP/2 a stream that becomes a channel (SSE) counts as a connection of its client in the limits
    /// (max_connections, max_connections_per_address), as it would on a connection of its own over HTTP/1.1, so
    /// multiplexing multiplies no client's budget: too_many_connections past them. Over HTTP/1.1 nothing to do
    /// (the connection was counted when accepted).
    virtual boost::system::error_code admit_channel() { return {}; }
    /// Over HTTP/2, an extended CONNECT's :protocol (RFC 8441: "websocket"); "" otherwise. Its request's
    /// method is CONNECT, its body what the client sent on the stream before the answer.
    virtual std::string_view connect_protocol() const noexcept { return {}; }

protected:
    /// Routes request(): its path, the asterisk form, then for a secured route the Origin, the CORS preflight,
    /// the method and authentication, and then run().
    void dispatch();
    /// Runs the route's action; nothing escapes it (a route that throws answers 500).
    virtual void run(route const& r);
    /// What every answer gets, over either protocol: no body for HEAD (`req`, when known), and the CORS fields
    /// when `cors_origin` is not empty.
    static void finish_answer(http_response& res, http_request const* req, std::string const& cors_origin);
    /// Where dispatch() parses the request's query: with the request's own state, where it lives as long as the
    /// request is read and answered (an HTTP/1.1 connection's: not between requests, nor while a poll waits).
    virtual query& request_query() = 0;

    server_context& ctx_;
    packed_address remote_address_;
    identity_ptr identity_;
    // Only for an allowed Origin: a pointer in every request, where a string is 32 bytes.
    std::unique_ptr<std::string> cors_origin_;

private:
    void answer_options();
};

}  // namespace switchboard::detail
