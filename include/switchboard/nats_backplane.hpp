#pragma once
// The NATS backplane: positions and history live in a JetStream stream, so every node agrees on them and they
// survive a node's restart; messages reach every node through the stream's republished subjects. See
// docs/scaling.md.
//
// - Publishing: a topic's next offset is published with JetStream's expected-last-subject-sequence check, so
//   offsets are contiguous and the same on every node; a node that loses the race to another reads the topic's
//   last message and tries again. A node's own publishes of one topic keep their order.
// - History is read from the stream (direct gets, and a short-lived consumer for long reads), a page at a time.
//   The stream keeps the largest count of any history rule and position_ttl of age; each topic's own limits are
//   applied when it is read.
// - Each node subscribes to the topics it has local subscribers for and delivers each in offset order with no
//   duplicate. A skipped offset or a reconnect is filled from history; when history no longer has it (or the
//   topic's epoch changed because the broker lost it), the topic's subscribers are told through the gap handler.
// - While NATS is unreachable (or the stream is missing), publish and history fail at once with
//   error::backplane_unavailable, connected() is false, and the node reconnects by itself; client connections
//   stay up.
// - Presence (backplane::presence_*): every node keeps every node's members in memory, told over core NATS, with
//   heartbeats to find dead nodes and to repair what was lost. See nats_presence.hpp and docs/scaling.md.
//
// Thread-safety: loop thread only, like every backplane. Needs cnats (`libnats`): its socket is read and written
// on the server's loop (cnats' event-loop interface); its callbacks are handed to the loop (docs/architecture.md).

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace switchboard {

struct nats_options {
    /// nats://[user:password@|token@]host:port, several separated by ','; tls:// for TLS (then cnats' own
    /// threads do the connection's I/O, see docs/architecture.md).
    std::string url = "nats://127.0.0.1:4222";
    /// With tls://: a PEM file of the certificate authorities to trust for NATS' certificate; "": the system's.
    std::string tls_ca_file;
    /// Subject prefix: "<prefix>.topic.<topic>" holds history, "<prefix>.live.<topic>" delivers; several
    /// deployments share one NATS with different prefixes. Tokens separated by '.', no whitespace, '*' or '>'.
    std::string prefix = "switchboard";
    /// The JetStream stream's name; empty: the prefix with every character outside [A-Za-z0-9-] as '_'.
    std::string stream;
    /// The stream's storage: "file" (survives a server restart) or "memory".
    std::string storage = "file";
    /// The stream's replicas (a clustered JetStream: 3 acknowledges after a quorum).
    std::size_t replicas = 1;
    /// How long a topic's position (its last message) outlives its last publish: the stream's max_age. History
    /// goes sooner, by its own max_age.
    std::chrono::seconds position_ttl{86'400};
    /// All history together, in bytes, the oldest messages going first; 0: no bound but the server's.
    std::size_t max_bytes = 1'073'741'824;
    /// Create the stream when it is missing and update its limits when they differ; false: expect it as is.
    bool manage_stream = true;
    /// The first connect (it blocks the constructor up to this long when NATS does not answer; the node then
    /// keeps trying in the background) and each reconnect attempt.
    std::chrono::milliseconds connect_timeout{2'000};
    /// Between rounds of reconnect attempts, plus up to as much random jitter. It never gives up.
    std::chrono::milliseconds reconnect_wait{100};
    /// A request to NATS (a publish's acknowledgement, a history read) without an answer this long fails.
    std::chrono::milliseconds request_timeout{5'000};
    /// Publishes waiting for NATS; past it, publishes are refused with error::backplane_unavailable.
    std::size_t max_pending = 100'000;
    /// Messages a topic holds while its node reads the ones it missed; past it, the topic has a gap.
    std::size_t max_held = 10'000;
    /// Bytes of recent messages the node keeps, across the topics it follows (each envelope plus 256 bytes),
    /// so that a history read from among a topic's last messages (up to 64, and within its history limits) is
    /// answered without JetStream: a long poll reads its topic's history with every request, and a reconnecting
    /// client with its first. Past it, a topic keeps nothing until room is back. 0: every read goes to NATS.
    std::size_t recent_bytes = 16 * 1024 * 1024;
    /// Topics a node follows through its patterns (each holds its last position, for order and duplicates);
    /// past it, the least recently seen one is forgotten (its next message starts it again: nothing is lost
    /// while the connection holds; after a reconnect it is not caught up, and its pattern subscribers are told
    /// anyway). At least 1.
    std::size_t max_pattern_topics = 10'000;
    /// Presence: how long a node may go unheard before the others take it for dead. Each node sends a heartbeat
    /// every third of it, so a node that dies has its members' leave events emitted within presence_expiry plus a
    /// third of it. Shorter: a dead node's members go sooner, for more heartbeats (one small message per node per
    /// period). At least 30 ms.
    std::chrono::milliseconds presence_expiry{30'000};
};

/// Throws std::invalid_argument with the reason (never the URL itself, which may hold a password) unless `url`
/// is one or more nats:// or tls:// URLs separated by ',', each with a host.
void check_nats_url(std::string_view url);
/// True for a subject prefix of non-empty '.'-separated tokens without whitespace, '*' or '>'.
bool is_valid_nats_prefix(std::string_view prefix) noexcept;

class nats_backplane final : public backplane {
public:
    /// Connects (see nats_options::connect_timeout). Throws std::invalid_argument for a bad URL or prefix, and
    /// std::runtime_error for options cnats refuses.
    nats_backplane(boost::asio::any_io_executor ex, nats_options options, history_options history = {});
    ~nats_backplane() override;

    using backplane::publish;
    void publish(std::string topic, std::string data, publish_options options, publish_handler done) override;
    void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                 history_handler done) override;
    /// The stream's sequence, in the epoch of the stream's creation: see docs/scaling.md for what it reads.
    void pattern_history(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                         std::size_t max_topics, pattern_history_handler done) override;
    void subscribe(std::string const& topic) override;
    void unsubscribe(std::string const& topic) override;
    /// Native wildcards: a core subscription on "<prefix>.live.<pattern>" (NATS' `*` and `>` are switchboard's).
    void subscribe_pattern(std::string const& pattern) override;
    void unsubscribe_pattern(std::string const& pattern) override;
    void pattern_ready(std::string const& pattern, ready_handler done) override;
    bool delivers_patterns() const noexcept override { return true; }
    std::optional<position> delivered(std::string const& topic) const override;
    bool supports_presence() const noexcept override { return true; }
    void presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                       presence_handler done) override;
    void presence_leave(std::string const& topic, std::string const& client) override;
    void presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                          presence_page_handler done) override;
    void presence_stats(std::string const& topic, presence_counts_handler done) override;
    /// This node's own members and the topics they are in (each node counts its own, as on Redis).
    std::optional<presence_totals> presence_size() const override;
    void close() override;
    /// Connected to NATS, and the stream is there as configured.
    bool connected() const noexcept override;
    char const* name() const noexcept override { return "nats"; }
    /// Used by the next publishes and history reads; the stream's limits are updated to cover them.
    void set_history_options(history_options options) override;

    /// Topics this node is subscribed to on NATS, for metrics and tests.
    std::size_t subscribed_topics() const noexcept;
    /// Patterns this node is subscribed to on NATS, and the topics it follows through them.
    std::size_t subscribed_patterns() const noexcept;
    std::size_t pattern_topics() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace switchboard
