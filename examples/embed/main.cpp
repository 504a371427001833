// examples/embed: a C++ service that embeds switchboard on its own io_context. One port serves the service's
// own HTTP routes (/api/status, /api/whoami) and switchboard's transports; a worker thread publishes from C++; the
// service listens to "orders" itself; hooks refuse publishing to "ticks" from clients, wrap client messages (keeping
// their bytes), and log connects.
//
//   switchboard-embed [port]      then: curl 127.0.0.1:PORT/api/status
//                                       curl -N '127.0.0.1:PORT/sse?topic=ticks'

#include <switchboard/channel.hpp>
#include <switchboard/error.hpp>
#include <switchboard/hooks.hpp>
#include <switchboard/http.hpp>
#include <switchboard/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>

int main(int argc, char** argv)
{
    // readme-snippet: begin (README.md, "Embedding in a C++ service", is made of these marked parts)
    boost::asio::io_context ioc;  // the service's own loop

    switchboard::server_options options;
    options.port = argc > 1 ? static_cast<std::uint16_t>(std::atoi(argv[1])) : 8081;
    switchboard::server sb(ioc, options);

    auto& hooks = sb.hooks();
    // readme-snippet: end
    hooks.on_connect = [](switchboard::channel& ch) {
        spdlog::info("client {} connected over {} from {}", ch.id(), ch.transport(), ch.remote_address());
        return boost::system::error_code{};
    };
    // readme-snippet: begin
    hooks.on_publish = [](switchboard::publish_request& req) -> boost::system::error_code {
        if (req.topic == "ticks")
            return switchboard::error::rejected;  // only the service itself publishes ticks
        // Stamped with the sender, the client's data kept byte for byte inside (req.replace_data(json) would
        // write a value instead).
        req.replace_data_text(R"({"from":)" + nlohmann::json(req.remote_address).dump() + R"(,"body":)" +
                              std::string(req.data()) + "}");
        return {};
    };

    // The service listens too: every message on "orders", from a client on any transport (or another node),
    // on the loop thread, its JSON text byte for byte. It listens while `listening` lives.
    unsigned orders = 0;
    auto listening = sb.subscribe("orders", [&](switchboard::message_ptr const& m) {
        ++orders;
        spdlog::info("order at offset {}: {}", m->offset(), m->data());
    });

    std::atomic<unsigned> ticks{0};
    sb.route("/api/status", [&](switchboard::http_request const& req) {
        switchboard::http_response res{boost::beast::http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_type, "application/json");
        res.body() = R"({"service":"embed-example","ticks":)" + std::to_string(ticks.load()) +
                     R"(,"orders":)" + std::to_string(orders) + "}";
        return res;
    });
    // An asynchronous route: GET only, behind the security gate (Origin, CORS, authentication), answered when
    // its work is done (another service, a database), within route_options::timeout or the client gets a 500.
    sb.route("/api/whoami", {.methods = {boost::beast::http::verb::get}, .secured = true},
             [&ioc](switchboard::http_request const& req, switchboard::http_responder send) {
                 boost::asio::post(ioc, [version = req.version(), send = std::move(send)]() mutable {
                     switchboard::http_response res{boost::beast::http::status::ok, version};
                     res.set(boost::beast::http::field::content_type, "application/json");
                     res.body() = R"({"user":)" + nlohmann::json(send.identity()->user).dump() + "}";
                     send.send(std::move(res));
                 });
             });
    sb.start();
    // readme-snippet: end

    // A worker thread of the service publishes; server::publish is the thread-safe entry.
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::thread worker([&] {
        std::unique_lock lock(m);
        while (!cv.wait_for(lock, std::chrono::seconds(1), [&] { return done; })) {
            // readme-snippet: begin // ... from any thread:
            sb.publish("ticks", {{"tick", ++ticks}});
            // readme-snippet: end
        }
    });

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { sb.stop(); });
    ioc.run();

    {
        std::lock_guard lock(m);
        done = true;
    }
    cv.notify_one();
    worker.join();
}
