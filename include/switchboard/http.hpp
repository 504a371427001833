#pragma once
// HTTP in the public API: requests and answers as Beast holds them, and what the service's own routes
// (server::route) are made of: their options and the responder an asynchronous route answers through.

#include <switchboard/fwd.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace switchboard {

static_assert(std::is_same_v<http_request, boost::beast::http::request<boost::beast::http::string_body>>);
static_assert(std::is_same_v<http_response, boost::beast::http::response<boost::beast::http::string_body>>);
static_assert(std::is_same_v<http_method, boost::beast::http::verb>);

namespace detail {
class route_call;
}

/// How one of the service's own routes answers (server::route with options).
struct route_options {
    /// The methods it answers. Any other gets 405 method_not_allowed with an Allow field; GET answers HEAD too
    /// (the handler runs, the body is not sent). OPTIONS is an ordinary method here, except for a CORS
    /// preflight on a secured route, which the gate answers itself.
    std::vector<http_method> methods{http_method::get};
    /// Behind the security gate the transports stand behind: the Origin is checked against
    /// security.allowed_origins (403 origin_not_allowed), CORS preflights are answered and answers to an allowed
    /// Origin carry the CORS fields, and the client is authenticated (JWT, the authenticate hook with transport
    /// "route", the connection rate limit) before the handler runs, which then finds who the client is in
    /// http_responder::identity(). Off: none of that; the route is all the service's business.
    bool secured = false;
    /// The handler answers within this, else the client gets 500 internal_error and the responder no longer
    /// sends. 0: no deadline (a handler that never answers then holds the connection until the client leaves).
    std::chrono::milliseconds timeout{30'000};
};

/// The one answer an asynchronous route owes its request (Beast's `send` in handle_request(req, send)). Move it
/// where the answer will be made; call send() once, on the loop thread (asio::post there from another thread).
/// A responder destroyed without answering answers 500 internal_error, so a lost answer never hangs a client.
/// If the client leaves first (seen on plain TCP while the server waits), or the route's timeout passes, or the
/// server stops (503 shutting_down), the answer is no longer wanted: pending() turns false and send() drops it.
/// Drop every responder before the server and its io_context are destroyed (it holds the route's timer).
class http_responder {
public:
    http_responder(http_responder&& other) noexcept = default;
    http_responder& operator=(http_responder&& other) noexcept;
    ~http_responder();

    /// Sends `res` (Content-Length and keep-alive are set from it and the request). Returns false, and drops
    /// `res`, when no answer is owed any more (already sent, client gone, timed out, server stopping).
    bool send(http_response res);
    /// True while the answer is owed and can still go out.
    bool pending() const noexcept;
    /// The request as it was received; valid while pending().
    http_request const& request() const;
    /// Who the security gate found the client to be (route_options::secured); null on an open route.
    identity_ptr const& identity() const noexcept;
    /// The client's address and port ("127.0.0.1:53122").
    std::string const& remote_address() const noexcept;

    explicit http_responder(std::shared_ptr<detail::route_call> call) noexcept;

private:
    void drop();

    std::shared_ptr<detail::route_call> call_;
};

}  // namespace switchboard
