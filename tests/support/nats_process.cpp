#include "support/nats_process.hpp"

#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <random>
#include <regex>
#include <stdexcept>

namespace switchboard::test {

namespace {

std::string nats_program()
{
    for (char const* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server"})
        if (std::filesystem::exists(p))
            return p;
    return "nats-server";
}

std::uint16_t port_in(std::string const& log, std::regex const& line, char const* what)
{
    std::smatch match;
    if (!std::regex_search(log, match, line))
        throw std::runtime_error(std::string("nats-server did not say its ") + what + " port:\n" + log);
    return static_cast<std::uint16_t>(std::stoi(match[1]));
}

}  // namespace

nats_process::nats_process(std::vector<std::string> extra, bool jetstream)
    : extra_(std::move(extra)), jetstream_(jetstream)
{
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() / ("switchboard-nats-" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    launch("-1", "-1");  // the server binds port 0: the kernel picks free ones, and the log says which
    auto const log = process_->output();
    static std::regex const clients(R"(Listening for client connections on 127\.0\.0\.1:(\d+))");
    static std::regex const monitor(R"(Starting http monitor on 127\.0\.0\.1:(\d+))");
    port_ = port_in(log, clients, "client");
    monitor_port_ = port_in(log, monitor, "monitoring");
}

nats_process::~nats_process()
{
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void nats_process::launch(std::string const& port, std::string const& monitor)
{
    std::vector<std::string> args{"-a", "127.0.0.1", "-p", port, "-m", monitor, "-sd", dir_.string()};
    if (jetstream_)
        args.push_back("-js");
    args.insert(args.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<server_process>(nats_program(), args);
    if (!process_->wait_for_output("Server is ready", std::chrono::seconds(30)))
        throw std::runtime_error("nats-server did not start:\n" + process_->output());
}

void nats_process::stop()
{
    if (!process_)
        return;
    process_->signal(SIGTERM);
    process_->wait_exit(std::chrono::seconds(30));
    process_.reset();  // SIGKILLs it if it is still there
}

void nats_process::kill()
{
    if (!process_)
        return;
    process_->signal(SIGKILL);
    process_->wait_exit(std::chrono::seconds(30));
    process_.reset();
}

void nats_process::start()
{
    // The ports were ours a moment ago; on a busy machine the kernel may keep them a little while.
    for (int attempt = 0;; ++attempt) {
        try {
            launch(std::to_string(port_), std::to_string(monitor_port_));
            return;
        } catch (std::runtime_error const&) {
            if (attempt == 4)
                throw;
        }
    }
}

void nats_process::restart_empty()
{
    stop();
    for (auto const& entry : std::filesystem::directory_iterator(dir_))
        std::filesystem::remove_all(entry.path());
    start();
}

nlohmann::json nats_process::connections(bool with_subscriptions) const
{
    boost::asio::io_context ioc;
    auto const r = fetch(ioc, monitor_port_, "GET", std::string("/connz?limit=1024") + (with_subscriptions ? "&subs=1" : ""));
    auto const j = r.json();
    if (r.status != 200 || !j.is_object())
        return nullptr;
    return j.value("connections", nlohmann::json::array());
}

long long nats_process::subscribers(std::string const& subject) const
{
    auto const all = connections(true);
    if (all.is_null())
        return -1;
    long long n = 0;
    for (auto const& c : all)
        for (auto const& s : c.value("subscriptions_list", nlohmann::json::array()))
            if (s == subject)
                ++n;
    return n;
}

long long nats_process::messages_in() const
{
    auto const all = connections(false);
    if (all.is_null())
        return -1;
    long long n = 0;
    for (auto const& c : all)
        n += c.value("in_msgs", 0LL);
    return n;
}

}  // namespace switchboard::test
