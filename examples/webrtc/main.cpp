// examples/webrtc: WebRTC signaling over switchboard topics, with time-limited TURN credentials for coturn.
// Two browser pages join a room (the topic "webrtc.<room>"), exchange offer/answer/ICE candidates with the
// perfect-negotiation pattern, and open an RTCDataChannel peer to peer for text chat and a small file transfer
// (chunked, checked by size and SHA-256). The page speaks switchboard's WebSocket protocol in a few lines of
// plain JavaScript: no client library is needed. The server stamps each signaling message with its sender
// (signaling_rooms.hpp) and hands out coturn credentials at GET /turn-credentials (turn_route.hpp).
//
//   switchboard-webrtc [--listen 127.0.0.1:8082] [--turn-url turn:HOST:3478?transport=udp --turn-ttl 3600]
//   SWITCHBOARD_TURN_SECRET=... (or --turn-secret) enables TURN; then open http://127.0.0.1:8082/?room=demo
//   in two windows. Running coturn beside it: docs/webrtc.md.

#include "signaling_rooms.hpp"
#include "turn_route.hpp"
#include "webrtc_page.hpp"

#include <switchboard/switchboard.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdint>
#include <string>

namespace {

// "host:port" (port may be 0: the kernel picks one, printed in the "listening on" log line).
bool split_listen(std::string const& listen, switchboard::server_options& options)
{
    auto const colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return false;
    try {
        auto const port = std::stoul(listen.substr(colon + 1));
        if (port > 65535)
            return false;
        options.address = listen.substr(0, colon);
        options.port = static_cast<std::uint16_t>(port);
    } catch (std::exception const&) {
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"switchboard WebRTC signaling example"};
    std::string listen = "127.0.0.1:8082";
    webrtc_example::turn_options turn;
    webrtc_example::signaling_options rooms;
    long ttl_seconds = turn.ttl.count();
    app.add_option("--listen", listen, "address:port to serve on (port 0: any free port)")
        ->envname("SWITCHBOARD_WEBRTC_LISTEN")
        ->capture_default_str();
    app.add_option("--turn-secret", turn.secret,
                   "coturn's static-auth-secret (prefer the variable: flags show in the process list)")
        ->envname("SWITCHBOARD_TURN_SECRET");
    app.add_option("--turn-url", turn.urls, "a TURN URL for the page, e.g. turn:HOST:3478?transport=udp (repeat)")
        ->envname("SWITCHBOARD_TURN_URLS")
        ->delimiter(',');
    app.add_option("--turn-ttl", ttl_seconds, "seconds a TURN credential stays valid")
        ->envname("SWITCHBOARD_TURN_TTL")
        ->check(CLI::Range(1L, 7L * 24 * 3600))
        ->capture_default_str();
    app.add_option("--room-size", rooms.room_size, "peers in one room at once")
        ->check(CLI::Range(2, 64))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    turn.ttl = std::chrono::seconds(ttl_seconds);

    switchboard::server_options options;
    if (!split_listen(listen, options)) {
        spdlog::error("--listen wants address:port, got '{}'", listen);
        return 2;
    }
    if (turn.secret.empty() != turn.urls.empty())
        spdlog::warn("TURN needs both a secret and at least one --turn-url; the page will use host candidates only");

    switchboard::server server(options);
    webrtc_example::install_signaling_rooms(server, rooms);
    server.route("/turn-credentials", webrtc_example::make_turn_route(turn));
    server.route("/", [](switchboard::http_request const& req) {
        switchboard::http_response res{boost::beast::http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_type, "text/html; charset=utf-8");
        res.body() = std::string(webrtc_page());
        return res;
    });
    try {
        server.start();
    } catch (std::exception const& e) {
        spdlog::error("cannot listen on {}: {}", listen, e.what());
        return 1;
    }

    boost::asio::signal_set signals(server.context(), SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec)
            server.stop();
    });
    server.run();
    return 0;
}
