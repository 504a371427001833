#pragma once
// The service's own routes (server::route): a public handler made into a route of the table, and the calls
// still owed an answer. One route_call per request: the responder holds it, and it holds the connection until
// the answer is sent or no longer wanted (the client left, the route's timeout passed, the server stopped).

#include <switchboard/http.hpp>
#include <switchboard/server.hpp>

#include "http/http_connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string_view>
#include <unordered_set>

namespace switchboard::detail {

class service_routes;

class route_call : public std::enable_shared_from_this<route_call>, public departure_listener {
public:
    route_call(std::shared_ptr<exchange> conn, service_routes& owner);
    ~route_call();

    /// Starts the deadline and the watch for the client's departure.
    void begin(std::chrono::milliseconds timeout);
    bool answer(http_response res);
    /// Answers with an error instead, if an answer is still owed.
    void fail(boost::system::error_code ec, std::string_view why = {});
    bool pending() const noexcept { return conn_ != nullptr; }
    http_request& request() const { return conn_->request(); }
    identity_ptr const& identity() const noexcept { return identity_; }
    std::string const& remote_address() const noexcept { return remote_address_; }

private:
    /// No answer is owed any more: stop the deadline and the watch, leave the table of pending calls.
    std::shared_ptr<exchange> settle();
    /// The client left before the answer: the call is dropped.
    void departed() override;

    std::shared_ptr<exchange> conn_;  // null once settled
    service_routes& owner_;
    identity_ptr identity_;
    std::string remote_address_;
    boost::asio::steady_timer deadline_;
};

class service_routes {
public:
    explicit service_routes(boost::asio::any_io_executor ex) : executor_(std::move(ex)) {}

    route make(route_options const& options, server::async_route_handler handler);
    route make(server::route_handler handler);
    /// Answers every pending call 503 shutting_down (server stopping).
    void stop();

private:
    friend class route_call;

    boost::asio::any_io_executor executor_;
    std::unordered_set<route_call*> pending_;
};

}  // namespace switchboard::detail
