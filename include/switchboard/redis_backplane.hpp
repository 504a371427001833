#pragma once
// The Redis backplane: positions and history live in Redis, so every node agrees on them, and messages reach
// every node through Redis pub/sub. See docs/scaling.md.
//
// - Publishing is one server-side script: the next offset, the next sequence (shared by every topic and node of
//   the prefix), the append to the topic's bounded history, the topic index and the publish to the nodes happen
//   atomically, so offsets and sequences are the same everywhere and history has no hole. A pattern's history
//   (pattern_history) is one script too: the index's topics published after the sequence that the pattern
//   matches, each one's history after it, merged in sequence order a page at a time.
// - Each node subscribes (on one pub/sub connection) to the topics it has local subscribers for, and
//   unsubscribes when the last one leaves. Patterns likewise, with PSUBSCRIBE on the same connection: each
//   pattern as a Redis glob that covers at least its topics (redis_names::glob), whose messages the node
//   filters with the pattern itself; a topic reached through a pattern has the same per-topic stream as a
//   subscribed one (order, catch-up, gaps), so a message Redis sends twice (`message` and `pmessage`, or two
//   globs) is delivered once. Topics followed through patterns are bounded (max_pattern_topics).
// - A node delivers each topic in offset order with no duplicate. When its stream skips an offset or its
//   connection comes back, it reads the missing messages from history; when they are gone (or the topic's epoch
//   changed because Redis lost its data), the topic's subscribers are told through the gap handler.
// - Presence (backplane::presence_*): each topic's members live in Redis, each owned by its channel's node,
//   which refreshes them; a dead node's members expire and a live node sweeps them, publishing their leave
//   events. Events reach every node on one pub/sub channel. See redis_presence.hpp and docs/scaling.md.
// - While Redis is unreachable, publish and history fail with error::backplane_unavailable, connected() is
//   false, and the node retries with exponential backoff; client connections stay up.
//
// Thread-safety: loop thread only, like every backplane. Needs `hiredis`; runs on the server's loop, no thread.

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace switchboard {

struct redis_options {
    /// redis://[:password@]host[:port][/db]; the host is resolved at each connect.
    std::string url = "redis://127.0.0.1:6379/0";
    /// Prepended to every key and pub/sub channel, so several deployments can share one Redis.
    std::string prefix = "switchboard:";
    std::chrono::milliseconds connect_timeout{2'000};
    /// A command without an answer for this long means Redis is stuck: the connection is dropped and remade.
    std::chrono::milliseconds command_timeout{5'000};
    /// Reconnect delays: the first, doubled at each failure up to the last, each with up to 50% random jitter.
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5'000};
    /// How long a topic's position (offset and epoch) outlives its last publish in Redis. History expires
    /// sooner, by its own max_age.
    std::chrono::seconds position_ttl{86'400};
    /// Commands waiting for Redis' answer; past it, publishes and history reads (replay pages included) are
    /// refused with error::backplane_unavailable (backpressure, not a queue).
    std::size_t max_pending = 100'000;
    /// Messages a topic holds while its node reads the ones it missed; past it, the topic has a gap.
    std::size_t max_held = 10'000;
    /// Bytes of recent messages the node keeps, across the topics it follows (each envelope plus 256 bytes),
    /// so that a history read from among a topic's last messages (up to 64, and within its history limits) is
    /// answered without Redis: a long poll reads its topic's history with every request, and a reconnecting
    /// client with its first. Past it, a topic keeps nothing until room is back. 0: every read goes to Redis.
    std::size_t recent_bytes = 16 * 1024 * 1024;
    /// Topics a node follows through its patterns (each holds its last position, for order and duplicates);
    /// past it, the least recently seen one is forgotten (its next message starts it again: nothing is lost
    /// while the connection holds; after a reconnect it is not caught up, and its pattern subscribers are told
    /// anyway). At least 1.
    std::size_t max_pattern_topics = 10'000;
    /// Topics the shared topic index keeps for pattern resumes (backplane::pattern_history), by their last
    /// publish: past it the least recently published one is let go, and a resume from before its last message
    /// is recovered:false without naming it. One index per prefix, trimmed by every node's publishes: give
    /// every node the same value. It bounds the index in Redis (about 100 bytes a topic plus the name) and what
    /// one pattern resume scans there. At least 1.
    std::size_t max_indexed_topics = 10'000;
    /// Presence: how long a member outlives its node's last refresh. The node refreshes its members every third
    /// of it and every node sweeps expired ones as often, so a node that dies has its members' leave events
    /// emitted within presence_expiry plus a third of it. Shorter: a dead node's members go sooner, for more
    /// refresh traffic (one script call per 1,000 members per period). At least 30 ms.
    std::chrono::milliseconds presence_expiry{30'000};
};

/// The parts of a redis:// URL; parse() throws std::invalid_argument with the reason (never the URL itself,
/// which may hold a password).
struct redis_address {
    std::string host = "127.0.0.1";
    unsigned short port = 6379;
    std::string password;
    unsigned database = 0;
    static redis_address parse(std::string const& url);
};

class redis_backplane final : public backplane {
public:
    /// Starts connecting at once. Throws std::invalid_argument for a bad URL.
    redis_backplane(boost::asio::any_io_executor ex, redis_options options, history_options history = {});
    ~redis_backplane() override;

    using backplane::publish;
    void publish(std::string topic, std::string data, publish_options options, publish_handler done) override;
    void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                 history_handler done) override;
    /// One script in Redis (pattern_history.lua): the topic index, then each matched topic's history.
    void pattern_history(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                         std::size_t max_topics, pattern_history_handler done) override;
    void subscribe(std::string const& topic) override;
    void unsubscribe(std::string const& topic) override;
    void subscribe_pattern(std::string const& pattern) override;
    void unsubscribe_pattern(std::string const& pattern) override;
    void pattern_ready(std::string const& pattern, ready_handler done) override;
    bool delivers_patterns() const noexcept override { return true; }
    bool supports_presence() const noexcept override { return true; }
    void presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                       presence_handler done) override;
    void presence_leave(std::string const& topic, std::string const& client) override;
    void presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                          presence_page_handler done) override;
    void presence_stats(std::string const& topic, presence_counts_handler done) override;
    /// This node's members and the topics they are in (not every node's: that would be a Redis round trip).
    std::optional<presence_totals> presence_size() const override;
    std::optional<position> delivered(std::string const& topic) const override;
    void close() override;
    bool connected() const noexcept override;
    char const* name() const noexcept override { return "redis"; }
    /// Used by the next publishes and history reads; a topic's list is trimmed at its next publish.
    void set_history_options(history_options options) override;

    /// Topics this node is subscribed to in Redis (confirmed), for metrics and tests.
    std::size_t subscribed_topics() const noexcept;
    /// Globs this node is subscribed to in Redis (confirmed), and the topics it follows through its patterns.
    std::size_t subscribed_globs() const noexcept;
    std::size_t pattern_topics() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace switchboard
