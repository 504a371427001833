// switchboard-server: the bundled server. Serves WebSocket (/ws), SSE (/sse), long polling (/poll) and HTTP
// publishing (/publish) on one port, with the in-memory backplane, and a demo page at /. With --threads N,
// N event loops on N threads share the port, joined as the nodes of one cluster.
//
//   switchboard-server [--config switchboard.json] [--listen 127.0.0.1:8080] [--threads 4] [--log-level info] [...]
//   switchboard-server --check-config switchboard.json
//   switchboard-server --help
//
// Settings come from defaults < the JSON file < SWITCHBOARD_* variables < flags (docs/configuration.md).
// Stops cleanly on SIGINT/SIGTERM (WebSockets get 1001, SSE streams a close event, pending polls an answer).
// SIGHUP reads the configuration again and applies limits, timeouts, history and logging without dropping a
// connection (a configuration with errors is refused and the running one kept).

#include "command_line.hpp"
#include "config.hpp"
#include "demo_page.hpp"
#include "logging.hpp"

#include <switchboard/switchboard.hpp>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using namespace switchboard_server;

bool read_file(std::string const& name, std::string& text)
{
    std::ifstream in(name, std::ios::binary);
    if (!in) {
        std::cerr << name << ": cannot read: " << std::strerror(errno) << '\n';
        return false;
    }
    std::ostringstream out;
    out << in.rdbuf();
    text = std::move(out).str();
    return true;
}

// Printed plainly on stderr, not through spdlog: the log settings may be among what is wrong.
void print(std::vector<config_error> const& list, std::string_view prefix = {})
{
    for (auto const& e : list)
        std::cerr << prefix << to_string(e) << '\n';
}

// Reads the file again (the environment and flags as at start) and applies what can change while running, to
// every loop.
void reload(std::vector<std::unique_ptr<switchboard::server>> const& servers, config_sources sources)
{
    if (!sources.file_name.empty() && !read_file(sources.file_name, sources.file_text)) {
        spdlog::error("reload: cannot read {}; keeping the running configuration", sources.file_name);
        return;
    }
    auto const result = resolve_config(sources);
    if (!result.ok()) {
        for (auto const& e : result.errors)
            spdlog::error("reload: {}", to_string(e));
        spdlog::error("reload refused: keeping the running configuration");
        return;
    }
    apply_log_options(result.config.log);
    for (auto const& server : servers)
        server->reload(result.config.server);
}

void on_hangup(boost::asio::signal_set& hangup, std::vector<std::unique_ptr<switchboard::server>> const& servers,
               config_sources const& sources)
{
    hangup.async_wait([&](boost::system::error_code ec, int) {
        if (ec)
            return;
        spdlog::info("SIGHUP: reloading {}", sources.file_name.empty() ? "the configuration" : sources.file_name);
        reload(servers, sources);
        on_hangup(hangup, servers, sources);
    });
}

int serve(server_config const& config, config_sources const& sources)
{
    auto const& file = sources.file_name;
    apply_log_options(config.log);
    spdlog::info("configuration: {}", file.empty() ? "defaults" : file);

    // One server per loop, each owning its io_context and run on its own thread (the first on this one). With
    // several loops they share the port (SO_REUSEPORT) and are the nodes of one cluster: one loop_cluster on the
    // memory backplane, else each loop its own Redis or NATS node, made on its loop by the factory.
    std::size_t const loops = config.threads;
    auto options = config.server;
    options.reuse_port = loops > 1;
    std::unique_ptr<switchboard::loop_cluster> cluster;
    switchboard::server::backplane_factory shared;
    if (!config.redis.url.empty())
        shared = [&](boost::asio::any_io_executor ex) {
            spdlog::info("backplane: redis (key prefix \"{}\")", config.redis.prefix);
            return std::make_unique<switchboard::redis_backplane>(ex, config.redis, config.server.history);
        };
    else if (!config.nats.url.empty())
        shared = [&](boost::asio::any_io_executor ex) {
            spdlog::info("backplane: nats (subject prefix \"{}\")", config.nats.prefix);
            return std::make_unique<switchboard::nats_backplane>(ex, config.nats, config.server.history);
        };
    else if (loops > 1) {
        cluster = std::make_unique<switchboard::loop_cluster>(config.server.history);
        shared = [&](boost::asio::any_io_executor ex) { return cluster->node(std::move(ex)); };
    }
    std::vector<std::unique_ptr<switchboard::server>> servers;
    for (std::size_t n = 0; n < loops; ++n) {
        try {
            servers.push_back(std::make_unique<switchboard::server>(options, shared));
        } catch (std::exception const& e) {
            spdlog::error("cannot start: {}", e.what());  // a certificate or key that cannot be used names its file
            return 2;
        }
        auto& server = *servers.back();
        server.route("/", [](switchboard::http_request const& req) {
            switchboard::http_response res{boost::beast::http::status::ok, req.version()};
            res.set(boost::beast::http::field::content_type, "text/html; charset=utf-8");
            res.body() = std::string(demo_page());
            return res;
        });
        try {
            server.start();
        } catch (std::exception const& e) {
            spdlog::error("cannot listen on {}:{}: {}", options.address, options.port, e.what());
            return 1;
        }
        // The first loop's port (the kernel's choice for port 0) is every other loop's.
        options.port = server.local_endpoint().port();
    }
    if (loops > 1) {
        std::vector<switchboard::server*> all;
        for (auto const& s : servers)
            all.push_back(s.get());
        for (auto* s : all)
            s->set_loops(all);
        spdlog::info("{} event loops on port {}", loops, options.port);
    }

    auto& first = *servers.front();
    boost::asio::signal_set hangup(first.context(), SIGHUP);
    on_hangup(hangup, servers, sources);
    boost::asio::signal_set signals(first.context(), SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int signo) {
        if (ec)
            return;
        spdlog::info("signal {}: shutting down", signo);
        hangup.cancel();  // so the loop can run dry
        for (auto const& s : servers)
            s->stop();
    });
    // Once the signals are handled, so a supervisor that reacts to these lines finds the server ready to stop.
    auto const& security = config.server.security;
    if (security.jwt_secret.empty() && security.jwt_public_key.empty())
        spdlog::warn("no authentication configured (--jwt-secret, --jwt-public-key): anyone who reaches this port "
                     "may subscribe and publish; see docs/security.md");
    if (security.allowed_origins.empty())
        spdlog::warn("no --allowed-origin: pages of any web site may open WebSockets here with the user's cookies");
    std::vector<std::thread> threads;
    for (std::size_t n = 1; n < loops; ++n)
        threads.emplace_back([&server = *servers[n]] { server.run(); });
    first.run();
    for (auto& t : threads)
        t.join();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    auto parsed = parse_command_line(argc, argv);
    if (auto const* code = std::get_if<int>(&parsed))
        return *code;
    auto const& args = std::get<command_line>(parsed);
    bool const checking = !args.check_file.empty();

    config_sources sources;
    sources.file_name = checking ? args.check_file : args.config_file;
    if (!sources.file_name.empty() && !read_file(sources.file_name, sources.file_text))
        return checking ? 1 : 2;
    sources.environment = switchboard_environment();
    sources.flags = args.flags;

    auto const result = resolve_config(sources);
    print(result.warnings, "warning: ");
    if (checking) {
        print(result.errors);
        if (result.ok())
            std::cout << "configuration OK\n";
        return result.ok() ? 0 : 1;
    }
    if (!result.ok()) {
        print(result.errors);
        std::cerr << "switchboard-server: not started: the configuration has errors\n";
        return 2;
    }
    try {
        return serve(result.config, sources);
    } catch (std::invalid_argument const& e) {
        // A value the configuration's checks could not judge (a PEM file that is not a usable RSA key).
        std::cerr << "switchboard-server: not started: " << e.what() << "\n";
        return 2;
    }
}
