// switchboard-server: the bundled server. Serves WebSocket (/ws), SSE (/sse), long polling (/poll) and HTTP
// publishing (/publish) on one port, with the in-memory backplane, and a demo page at /.
//
//   switchboard-server [--listen 127.0.0.1:8080] [--log-level info]
//
// Stops cleanly on SIGINT/SIGTERM (WebSockets get 1001, SSE streams a close event, pending polls an answer).

#include "demo_page.hpp"

#include <switchboard/server.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <csignal>

namespace {

bool split_listen(std::string const& text, std::string& host, std::uint16_t& port)
{
    auto const colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return false;
    host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    auto const digits = std::string_view(text).substr(colon + 1);
    auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return ec == std::errc{} && end == digits.data() + digits.size();
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"switchboard-server: WebSocket, SSE and long polling on one port"};
    std::string listen = "127.0.0.1:8080";
    std::string level = "info";
    app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
    app.add_option("--log-level", level, "trace, debug, info, warn, error")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    spdlog::set_level(spdlog::level::from_str(level));
    spdlog::flush_on(spdlog::level::info);

    switchboard::server_options options;
    if (!split_listen(listen, options.address, options.port)) {
        spdlog::error("--listen wants HOST:PORT, got '{}'", listen);
        return 2;
    }

    switchboard::server server(options);
    server.route("/", [](switchboard::http_request const& req) {
        switchboard::http_response res{boost::beast::http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_type, "text/html; charset=utf-8");
        res.body() = std::string(demo_page());
        return res;
    });

    try {
        server.start();
    } catch (std::exception const& e) {
        spdlog::error("cannot listen on {}: {}", listen, e.what());
        return 1;
    }
    spdlog::warn("the demo configuration is open: anyone who reaches this port may subscribe and publish");

    boost::asio::signal_set signals(server.context(), SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int signo) {
        if (ec)
            return;
        spdlog::info("signal {}: shutting down", signo);
        server.stop();
    });
    server.run();
    spdlog::info("stopped");
    return 0;
}
