#pragma once
// A real redis-server for tests: its own port on 127.0.0.1 (found free by the kernel), its own data directory,
// append-only persistence with an fsync per write (so a restart keeps every acknowledged write, as the scaling
// tests require), stopped by its PID. restart() brings it back on the same port with the same data;
// restart_empty() with none (a Redis that lost its data).

#include "support/server_process.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {

using redis_reply = std::unique_ptr<redisReply, void (*)(void*)>;

class redis_process {
public:
    /// Starts redis-server (found in PATH or /usr/bin); throws std::runtime_error when it does not come up.
    redis_process();
    ~redis_process();

    std::uint16_t port() const { return port_; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

    /// SIGTERM and wait: Redis writes its append-only file before it exits.
    void stop();
    /// SIGKILL: no shutdown; what the append-only file holds (every acknowledged write) is what start() finds.
    void kill();
    void start();
    void restart() { stop(); start(); }
    /// Stops, deletes the data, starts: every topic's position and history are gone.
    void restart_empty();

    /// One command on a fresh blocking connection (null reply when Redis does not answer).
    redis_reply command(std::vector<std::string> const& args) const;
    /// PUBSUB NUMSUB for one channel: how many connections (nodes) are subscribed to it.
    long long subscribers(std::string const& channel) const;

private:
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<server_process> process_;
};

}  // namespace switchboard::test
