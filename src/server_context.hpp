#pragma once
// The server's shared state: what channels share (channel_services.hpp), plus the HTTP side's own: the
// connections counted for admission, the refused ones draining, TLS. One per server; loop thread only.

#include "channel_services.hpp"
#include "core/slot_list.hpp"
#include "http/connection_slot.hpp"
#include "http/exchange.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace switchboard::detail {

class http_connection;
class h2_connection;
class connection_stream;

struct server_context : channel_services {
    using channel_services::channel_services;

    connection_counts connections;
    std::size_t lingering_refusals = 0;  // refused connections draining after their 503 (http_connection)
    // TLS settings when options name a certificate (else null); replaced on reload, each connection keeps its own.
    std::shared_ptr<boost::asio::ssl::context> tls;
    route_table routes;  // the server's, by path: made before it listens, read by every request
    slot_list<http_connection> http_connections;  // closed on stop when idle
    slot_list<h2_connection> h2_connections;  // HTTP/2 connections (src/http2/), told to go away on stop
    std::size_t h2_streams = 0;  // streams open on them (for /metrics)
    // Takes over a plain connection that opened with the HTTP/2 preface: its stream, its slot in the limits, the
    // bytes read so far and the client's address. Set by the server, so that http/ does not reach up to http2/.
    std::function<void(connection_stream&&, connection_slot&&, std::string read, packed_address remote_address)>
        start_http2;
    // Set when this server is one loop of several (server::set_loops): renders every loop's metrics, each on its
    // own loop, and hands their texts back here. Null: this loop's own metrics are the process's.
    std::function<void(std::function<void(std::vector<std::string>)>)> gather_metrics;
    // What one loop does for a request made on another (the server API): runs on loop `n`'s thread with its
    // context, and returns what to run back on the asking loop with the results (captured by value).
    using loop_visit = std::function<std::function<void()>(server_context& loop, std::size_t n)>;
    // Set with gather_metrics: runs the visit on every loop (this one included), each on its own thread, then
    // the closures they return here, then `done` (a loop silent for 2 s is left out). Null: this loop is the
    // process's only one (ops/api.hpp's on_every_loop then runs the visit at once).
    std::function<void(loop_visit visit, std::function<void()> done)> visit_loops;

    /// Counts a new connection from `address` (an IP) in `slot`, or refuses it: error::too_many_connections past
    /// max_connections or max_connections_per_address, error::rate_limited (the wait in `retry_after`) past
    /// security.address_connections. A refused connection is counted nowhere.
    boost::system::error_code admit(std::string const& address, connection_slot& slot,
                                    std::chrono::milliseconds& retry_after);
};

}  // namespace switchboard::detail
