#pragma once
// The load generator's command line: what to connect to, which transport, how hard to publish, for how long.
// parse_options() fills in the defaults that depend on other options (paths per dialect, source addresses) and
// exits with the usage text on a bad command line.

#include <cstddef>
#include <cstdint>
#include <string>

namespace loadgen {

enum class transport_kind { ws, sse, poll };
enum class dialect_kind { switchboard, nchan, plain };  // plain: a bare WebSocket broadcast server (Node ws)
enum class publisher_kind { http, ws };
enum class mode_kind { fanout, idle };

struct options {
    transport_kind transport = transport_kind::ws;
    dialect_kind dialect = dialect_kind::switchboard;
    publisher_kind publisher = publisher_kind::http;
    mode_kind mode = mode_kind::fanout;
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::uint16_t pub_port = 0;        // publishers connect here (another node); 0: same as port
    std::string topic;                 // default: a fresh name per run
    std::string sub_path;              // default per dialect and transport
    std::string pub_path;              // default per dialect
    std::size_t subscribers = 100;
    double rate = 0;                   // msg/s; 0 with window > 0: closed loop
    std::size_t window = 0;            // messages in flight (closed loop)
    std::size_t publishers = 0;        // HTTP publisher connections; 0: 1 at a fixed rate, min(window, 8) closed-loop
    std::size_t pipeline = 1;          // HTTP requests in flight per publisher connection (sent without waiting)
    double duration = 5;               // seconds of publishing
    std::size_t max_messages = 10'000'000;
    std::size_t payload_size = 100;    // bytes of the JSON payload
    std::size_t sources = 0;           // 127.0.0.x source addresses; 0: one per 9,000 subscribers
    std::string source_net = "127.0.0";  // the x.y.z of the source addresses
    std::size_t connect_concurrency = 500;  // connections being set up at once
    double settle = 0.2;               // seconds between "all subscribed" and the first publish
    double drain = 5;                  // seconds to wait for the last deliveries
    double hold = 0;                   // idle mode: seconds to hold the connections after measuring
    double timeout = 120;              // hard bound on the whole run
    int server_pid = 0;
    std::string out;                   // write the JSON here too
    bool presence = false;             // switchboard WebSocket subscribers join the topic's presence (join storm)
    std::size_t presence_total = 0;    // --presence: members of the topic on every node; 0: --subscribers
};

/// Prints the usage text and exits with `code`.
[[noreturn]] void usage(int code);

/// Reads argv; exits (2) on an unknown option, a bad value or a non-loopback host.
options parse_options(int argc, char** argv);

/// `tmpl` with every "{topic}" replaced by `topic`.
std::string expand(std::string const& tmpl, std::string const& topic);

}  // namespace loadgen
