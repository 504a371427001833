#pragma once
// Proxy hooks over HTTP: the server asks the application's backend, by a JSON POST to a URL, whether a client
// may connect (and who it is), refresh its token, subscribe or publish, and acts on the answer. They are the
// server's hooks (hooks.hpp) with the backend behind them, for services that do not link the library: the
// bundled server's `proxy.*` keys. Requests, answers and errors: docs/integration.md.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

struct proxy_options {
    /// The backend's URLs, each "http://HOST[:PORT]/PATH"; "" asks nothing for that step (a C++ hook set for it,
    /// if any, decides instead).
    std::string connect_url;    // every connect (WebSocket, SSE, long poll, POST /publish, GET /presence)
    std::string refresh_url;    // a WebSocket presenting a fresh token ("refresh" command)
    std::string subscribe_url;  // every subscribe on every transport, patterns included, and presence snapshots
    std::string publish_url;    // every client publish (WebSocket and POST /publish): allow, refuse or replace data

    /// An answer not complete within this is backend_unavailable, and the request is given up.
    std::chrono::milliseconds timeout{2'000};
    /// Requests waiting for the backend at once, per loop; past it the next ones are backend_unavailable at once
    /// (a slow backend then costs clients an error, not the server its memory).
    std::size_t max_in_flight = 256;
    /// Connections kept open to the backend for reuse, per loop.
    std::size_t max_idle_connections = 32;
    /// Request fields of the client's HTTP request forwarded to the connect proxy, by name (case-insensitive),
    /// and cookies, by name. Nothing else of the request reaches the backend.
    std::vector<std::string> headers;
    std::vector<std::string> cookies;
};

/// Why `url` cannot be one of proxy_options' URLs, or "" when it can (or is "").
std::string proxy_url_problem(std::string_view url);

}  // namespace switchboard
