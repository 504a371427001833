#pragma once
// One run of the load generator: open the publishers, the warm-up publish, the connect storm of subscribers, then
// (fanout mode) publish at a fixed rate or closed-loop and drain; print one JSON result.
//
// Everything runs on one thread and one io_context. Every socket is read with a readiness wait plus non-blocking
// reads into one shared buffer, so an idle subscriber holds a socket and a few fields. Its members are defined in
// one file per job: sockets.cpp, handshake.cpp, websocket_client.cpp, sse_subscriber.cpp,
// long_poll_subscriber.cpp, deliveries.cpp, publisher.cpp, execute.cpp, result.cpp.

#include "clock.hpp"
#include "connection.hpp"
#include "histogram.hpp"
#include "options.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

class run {
public:
    explicit run(options o) : opt_(std::move(o)), timer_(io_), pub_timer_(io_), deadline_(io_)
    {
        sub_target_ = expand(opt_.sub_path, opt_.topic);
        pub_target_ = expand(opt_.pub_path, opt_.topic);
        // Size the padding so a payload is payload_size bytes (seq and timestamp digits vary by a few bytes).
        auto const base = std::string(R"({"seq":1,"ts":)") + std::to_string(now_ns()) + R"(,"pad":""})";
        padding_.assign(opt_.payload_size > base.size() ? opt_.payload_size - base.size() : 1, 'x');
    }

    int execute();

    // Called by connections.
    void on_input(connection& c, char* p, std::size_t n);

private:
    friend struct connection;

    // Set-up.
    void open(connection& c);
    void on_connected(connection& c, error_code ec);
    void start_reading(connection& c);
    void on_readable(connection& c, error_code ec);
    void send(connection& c, std::string_view bytes);
    void flush(connection& c);
    void fail(connection& c, std::string_view why);
    void mark_ready(connection& c);
    void connect_more();

    // Protocols.
    void subscriber_handshake(connection& c);
    std::size_t ws_parse(connection& c, char* data, std::size_t size);
    void ws_input(connection& c, char* p, std::size_t n);
    void ws_message(connection& c, char const* p, std::size_t n);
    void ws_send_text(connection& c, std::string_view text);
    void sse_input(connection& c, char const* p, std::size_t n);
    void sse_body(connection& c, char const* p, std::size_t n);
    void poll_input(connection& c);
    void send_poll(connection& c);
    void http_publisher_input(connection& c);
    void scan(connection& c, char const* p, std::size_t n);
    /// --presence: counts a join, a diff's joins or a counts event; false when `text` is none of them.
    bool on_presence(connection& c, std::string_view text);

    // Publishing.
    std::string payload(std::uint64_t seq);
    void publish_tick();
    bool may_publish() const;
    void pump();
    void publish_due();
    void uncork(connection& c);
    void publish_on(connection& c, std::uint64_t seq);
    void on_published(std::uint64_t seq, bool ok);
    void finish_publishing();

    // Phases.
    void run_until(std::function<bool()> const& done, double seconds);

    // The result (result.cpp).
    nlohmann::json set_up_result(std::size_t subscribed, double connect_seconds, double server_cpu_connect) const;
    void add_fanout_result(nlohmann::json& j, std::size_t subscribed);
    void add_run_result(nlohmann::json& j) const;
    void write_result(nlohmann::json const& j) const;

    options opt_;
    asio::io_context io_;
    asio::steady_timer timer_, pub_timer_, deadline_;
    std::string sub_target_, pub_target_, padding_;
    std::vector<std::unique_ptr<connection>> subs_;
    std::vector<std::unique_ptr<connection>> pubs_;
    std::vector<char> buffer_ = std::vector<char>(256 * 1024);

    std::size_t next_to_open_ = 0, opening_ = 0, subs_ready_ = 0, pubs_ready_ = 0, failed_ = 0;
    std::size_t active_subs_ = 0;  // subscribers when publishing started (closed loop window)
    steady::time_point publish_deadline_{};
    std::vector<std::string> errors_;
    std::uint64_t first_connect_ns_ = 0, all_ready_ns_ = 0;

    // Publishing state.
    bool publishing_ = false, publish_done_ = false, timed_out_ = false;
    bool pumping_ = false;  // inside pump(): HTTP publishes are corked until it ends
    std::uint64_t next_seq_ = 1, published_ok_ = 0, publish_errors_ = 0;
    std::uint64_t publish_start_ns_ = 0, publish_end_ns_ = 0, last_delivery_ns_ = 0;
    std::deque<std::uint64_t> backlog_;  // fixed rate: seqs due but no idle publisher connection
    std::size_t max_backlog_ = 0;
    std::uint64_t unsent_ = 0;
    std::uint64_t ticks_ = 0;
    std::string cursor_;                 // switchboard: the topic's position before the run (long polling)

    // Measurements.
    histogram latency_;
    std::uint64_t deliveries_ = 0;
    // --presence: joins received (single events and the joins of diffs), when the last presence frame came,
    // counts events received, and members whose counts said every subscriber had joined.
    std::uint64_t joins_ = 0, last_join_ns_ = 0, counts_ = 0, told_all_ = 0;
    counters sub_bytes_, pub_bytes_;
    double cpu_start_ = 0, cpu_end_ = 0, server_cpu_start_ = 0, server_cpu_end_ = 0;
    long long rss_before_ = -1, rss_after_ = -1;
};

}  // namespace loadgen
