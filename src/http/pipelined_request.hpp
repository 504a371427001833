#pragma once
// A request of an HTTP/1.1 connection that runs while the ones before it wait for their answers: a backend
// pipelining publishes over one keep-alive connection, on a backplane that answers a publish later (Redis, NATS,
// an asynchronous authorize hook), has them all in flight at once, and their deliveries share the loop turn's
// flush, as a WebSocket publisher's do. Only a route that answers with respond() alone runs so
// (route::pipelines); it owns its request, and its answer takes its place in the connection's line of answers
// (http_connection::answer_in_line), which go out in the order of the requests.

#include "http/exchange.hpp"

#include <cstdint>
#include <memory>

namespace switchboard::detail {

class http_connection;

class pipelined_request final : public exchange {
public:
    /// `place`: the answer's place in the connection's line. The request, its query and what dispatch found
    /// (who the client is, its allowed Origin) move here from the connection, which reads its next request.
    pipelined_request(std::shared_ptr<http_connection> conn, server_context& ctx, std::uint64_t place,
                      http_request request, query parameters, identity_ptr who,
                      std::unique_ptr<std::string> cors_origin);

    /// Runs the route's action (it may answer at once).
    void start(route const& r) { run(r); }

    http_request& request() noexcept override { return request_; }
    query const& parameters() const noexcept override { return query_; }
    void respond(http_response res) override;
    bool secure() const noexcept override;
    // A pipelining route never holds its request for a departure and never sets it aside: nothing to do.
    void watch_for_departure(departure_listener&) override {}
    void stop_watching() override {}
    void set_aside_request() override {}
    void abandon() override;

private:
    query& request_query() noexcept override { return query_; }

    std::shared_ptr<http_connection> conn_;
    std::uint64_t place_;
    http_request request_;
    query query_;
    bool answered_ = false;
};

}  // namespace switchboard::detail
