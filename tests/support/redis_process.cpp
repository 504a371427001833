#include "support/redis_process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <csignal>
#include <random>
#include <stdexcept>

namespace switchboard::test {

namespace {

std::uint16_t free_port()
{
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

std::string redis_program()
{
    return std::filesystem::exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
}

}  // namespace

redis_process::redis_process()
{
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() / ("switchboard-redis-" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    // The port was free a moment ago; another process may take it before Redis binds it, so try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        try {
            start();
            return;
        } catch (std::runtime_error const&) {
            if (attempt == 4)
                throw;
        }
    }
}

redis_process::~redis_process()
{
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void redis_process::start()
{
    process_ = std::make_unique<server_process>(
        redis_program(), std::vector<std::string>{"--port", std::to_string(port_), "--bind", "127.0.0.1",
                                            "--dir", dir_.string(), "--save", "", "--appendonly", "yes",
                                            "--appendfsync", "always", "--daemonize", "no", "--protected-mode", "no",
                                            "--logfile", ""});
    if (!process_->wait_for_output("Ready to accept connections", std::chrono::seconds(20)))
        throw std::runtime_error("redis-server did not start:\n" + process_->output());
}

void redis_process::stop()
{
    if (!process_)
        return;
    process_->signal(SIGTERM);
    process_->wait_exit(std::chrono::seconds(20));
    process_.reset();  // SIGKILLs it if it is still there
}

void redis_process::kill()
{
    if (!process_)
        return;
    process_->signal(SIGKILL);
    process_->wait_exit(std::chrono::seconds(20));
    process_.reset();
}

void redis_process::restart_empty()
{
    stop();
    for (auto const& entry : std::filesystem::directory_iterator(dir_))
        std::filesystem::remove_all(entry.path());
    start();
}

redis_reply redis_process::command(std::vector<std::string> const& args) const
{
    timeval const timeout{5, 0};
    std::unique_ptr<redisContext, void (*)(redisContext*)> c(redisConnectWithTimeout("127.0.0.1", port_, timeout),
                                                              &redisFree);
    if (!c || c->err)
        return {nullptr, &freeReplyObject};
    redisSetTimeout(c.get(), timeout);
    std::vector<char const*> argv;
    std::vector<std::size_t> lengths;
    for (auto const& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto* r = redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lengths.data());
    return {static_cast<redisReply*>(r), &freeReplyObject};
}

long long redis_process::subscribers(std::string const& channel) const
{
    auto r = command({"PUBSUB", "NUMSUB", channel});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return -1;
    return r->element[1]->integer;
}

}  // namespace switchboard::test
