#pragma once
// A real nats-server with JetStream for tests: its own client port on 127.0.0.1 and its own monitoring port
// (both chosen by the kernel: -p -1, -m -1, read back from its log), its own store directory, stopped by its PID.
// stop() is SIGTERM (a clean shutdown), kill() is SIGKILL (a crash); start() brings it back on the same ports
// with the same store, restart_empty() with none (a server that lost its store).

#include "support/server_process.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {

class nats_process {
public:
    /// Starts nats-server -js (found in PATH or /usr/sbin, /usr/bin); throws std::runtime_error when it does not
    /// come up. `extra` flags are added to every start (e.g. {"--user", "u", "--pass", "p"}); `jetstream` false
    /// leaves -js out (a NATS that switchboard cannot keep history on).
    explicit nats_process(std::vector<std::string> extra = {}, bool jetstream = true);
    ~nats_process();
    nats_process(nats_process const&) = delete;
    nats_process& operator=(nats_process const&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    std::filesystem::path const& store() const { return dir_; }
    bool running() const { return process_ && process_->running(); }
    std::string output() const { return process_ ? process_->output() : std::string(); }

    /// SIGTERM and wait for the exit.
    void stop();
    /// SIGKILL: no shutdown, whatever the store has on disk is what a restart finds.
    void kill();
    /// Starts again on the same ports and store (retries a few times while a port is still held).
    void start();
    void restart() { stop(); start(); }
    void restart_empty();

    /// How many client subscriptions the server holds on exactly `subject` (its monitoring endpoint /connz);
    /// -1 when the server does not answer.
    long long subscribers(std::string const& subject) const;
    /// Messages the server has received from the clients connected now (publishes and requests, per /connz);
    /// -1 when the server does not answer.
    long long messages_in() const;

private:
    void launch(std::string const& port, std::string const& monitor);
    /// The connections the monitoring endpoint lists (/connz), or null when it does not answer.
    nlohmann::json connections(bool with_subscriptions) const;

    std::filesystem::path dir_;
    std::vector<std::string> extra_;
    bool jetstream_ = true;
    std::uint16_t port_ = 0;
    std::uint16_t monitor_port_ = 0;
    std::unique_ptr<server_process> process_;
};

}  // namespace switchboard::test
