// examples/dashboard: a live dashboard over Server-Sent Events, read by the browser's own EventSource with no
// client library. The server publishes its figures (channels per transport, topics, a tick count) on the topic
// "stats" once a period; the page draws them as a ticking chart. When the stream drops, EventSource reconnects
// by itself and sends Last-Event-ID, and switchboard replays what the page missed: the chart has no hole.
//
//   switchboard-dashboard [port] [period-ms]   then open http://127.0.0.1:PORT/ (default 8083, 1000 ms)
//
// SWITCHBOARD_ADMIN_TOKEN, when set, turns on the admin routes: POST /admin/disconnect?token=... drops every
// stream, to watch the page resume.

#include "dashboard_page.hpp"

#include <switchboard/switchboard.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>

int main(int argc, char** argv)
{
    boost::asio::io_context ioc;
    switchboard::server_options options;
    options.port = argc > 1 ? static_cast<std::uint16_t>(std::atoi(argv[1])) : 8083;
    auto const period = std::chrono::milliseconds(argc > 2 ? std::atoi(argv[2]) : 1000);
    options.sse_retry = std::chrono::milliseconds(500);  // EventSource's reconnect delay: quick, for a dashboard
    if (char const* token = std::getenv("SWITCHBOARD_ADMIN_TOKEN"))
        options.admin_token = token;
    switchboard::server sb(ioc, options);

    sb.route("/", [](switchboard::http_request const& req) {
        switchboard::http_response res{boost::beast::http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_type, "text/html; charset=utf-8");
        res.body() = std::string(dashboard_page());
        return res;
    });
    sb.start();

    // The figures are read on the loop thread, where the server keeps them; publishing from there is a post.
    boost::asio::steady_timer timer(ioc);
    std::uint64_t tick = 0;
    std::function<void()> schedule = [&] {
        timer.expires_after(period);
        timer.async_wait([&](boost::system::error_code ec) {
            if (ec)
                return;
            auto const s = sb.stats();
            auto const now = std::chrono::system_clock::now().time_since_epoch();
            sb.publish("stats", {{"tick", ++tick},
                                 {"at", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
                                 {"websocket", s.websocket},
                                 {"sse", s.sse},
                                 {"long_polling", s.long_polling},
                                 {"topics", s.topics}});
            schedule();
        });
    };
    schedule();

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
        timer.cancel();
        sb.stop();
    });
    ioc.run();
}
