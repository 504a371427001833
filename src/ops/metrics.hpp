#pragma once
// The server's counters, kept on the loop thread as plain integers (no atomics, no locks: counting costs an
// add), and their Prometheus text rendering for GET /metrics.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace switchboard::detail {

class histogram {
public:
    static constexpr std::array<double, 15> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0};
    void observe(double seconds) noexcept;
    void observe(std::chrono::steady_clock::duration d) noexcept
    {
        observe(std::chrono::duration<double>(d).count());
    }
    void render(std::string& out, std::string_view name, std::string_view help) const;
    /// An estimate of quantile `q` (0..1): the upper bound of the bucket it falls in (0 when empty).
    double quantile(double q) const noexcept;
    std::uint64_t count() const noexcept { return count_; }

private:
    std::array<std::uint64_t, bounds.size() + 1> counts_{};  // the last is +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

/// What a close code is counted under in switchboard_disconnects_total: its number for the codes the server
/// closes with and the standard ones (RFC 6455 7.4.1), else its range ("1000-2999", "3000-3999", "4000-4999",
/// "other"). A client chooses its close code: each must not become a series of its own.
std::string disconnect_label(std::uint16_t code);

/// 0 websocket, 1 sse, 2 long-polling.
std::size_t transport_index(std::string_view transport) noexcept;
inline constexpr std::array<std::string_view, 3> transport_names{"websocket", "sse", "long-polling"};

struct metrics {
    std::array<std::uint64_t, 3> connections_opened{};
    std::array<std::uint64_t, 3> connections_open{};
    std::uint64_t messages_published = 0;  // accepted by the backplane from this node
    std::uint64_t bytes_out = 0;           // written to streams and poll answers
    std::uint64_t slow_consumers = 0;      // channels closed because their queue was full
    std::uint64_t handler_exceptions = 0;  // thrown out of a completion handler into server::run, which went on
    std::uint64_t tls_handshakes = 0;          // TLS handshakes begun (a client's first byte was TLS)
    std::uint64_t tls_handshake_failures = 0;  // of those, failed or timed out
    // permessage-deflate: messages and replies compressed (each once), the bytes of their frames before and
    // after, and deliveries of compressed frames (one per subscriber that negotiated it).
    std::uint64_t ws_compressed_frames = 0;
    std::uint64_t ws_compression_bytes_in = 0;
    std::uint64_t ws_compression_bytes_out = 0;
    std::uint64_t ws_compressed_deliveries = 0;
    // Delta updates: deliveries that went as a delta (WebSocket, SSE), and the bytes they saved against the
    // frames that would have gone in full.
    std::uint64_t delta_deliveries = 0;
    std::uint64_t delta_bytes_saved = 0;
    std::map<std::string, std::uint64_t> disconnects;  // by disconnect_label
    std::map<std::string, std::uint64_t> errors;         // refused requests and commands, by error code name
    histogram delivery_latency;  // publish on this node to the write of every subscriber's bytes
    histogram publish_latency;   // a publish handed to the backplane until it is positioned
    histogram loop_lag;          // how late a periodic timer fires: the event loop's backlog

    void count_error(std::string_view code) { ++errors[std::string(code)]; }
};

}  // namespace switchboard::detail
