#pragma once
// The engine of the NATS backplane (include/switchboard/nats_backplane.hpp wraps it): positions and history in a
// JetStream stream (stream_config.hpp), live delivery through the stream's republished messages, on one nats_link
// driven by the loop.
//
// - Publishing: a topic's next offset is its last message's offset + 1, published to "<prefix>.topic.<topic>"
//   with the header Nats-Expected-Last-Subject-Sequence set to that last message's stream sequence. JetStream
//   stores it only if no other message of the topic came in between, atomically: so offsets are contiguous and
//   the same everywhere. A node that loses the race (error 10071) reads the topic's last message and tries again,
//   after a random wait that grows with each loss (so a slower node is not beaten every time).
//   The offset and the epoch travel in the message's headers (Switchboard-Offset, Switchboard-Epoch). A topic
//   with no message gets a new epoch from its first read (an epoch marker: a record of offset 0, never
//   delivered, so a subscriber starting from it holds a position the first publish continues) or its first
//   publish (offset 1). A node's publishes of one topic go one record at a time (the next needs the stream
//   sequence of the previous); different topics go in parallel. What queued up behind a topic's record in
//   flight goes in its next record, together (group commit: stream_record.hpp, up to max_record_messages and
//   max_record_bytes): one acknowledgement, one live message, one fan-out turn on every node. A keyed publish
//   or an epoch marker goes alone.
// - History: history_reader (direct gets, and a push consumer for long reads). The last message of a topic gives
//   its position. Per-topic limits (count, age) are applied there.
// - The backplane's sequence (message::sequence, pattern_history) is the record's stream sequence and the
//   message's place in it, in the epoch of the stream's creation time: pattern_reader reads a pattern's history
//   with the stream's own subject filters.
// - Live: a core subscription per topic with local subscribers on "<prefix>.live.<topic>", where the stream
//   republishes each message once stored, in stream order. Not the published subject: a core subscriber there
//   would also see publishes JetStream refused, and in an order that is not the stream's. Each topic is delivered
//   in offset order with no duplicate; a hole (a skipped offset, a reconnect) is filled from history, and when
//   history no longer has it, or the epoch changed, the gap handler is told.
// - While NATS is unreachable, publish and history fail at once with not_connected, connected() is false, and
//   cnats reconnects by itself (renewing the subscriptions); then every subscribed topic reads what it missed.
//
// Thread-safety: loop thread only, like every backplane.

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>
#include <switchboard/message.hpp>
#include <switchboard/position.hpp>

#include "backplanes/nats/history_reader.hpp"
#include "backplanes/recent_messages.hpp"
#include "backplanes/nats/nats_link.hpp"
#include "backplanes/nats/pattern_reader.hpp"
#include "backplanes/nats/stream_config.hpp"
#include "backplanes/nats/subject.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <deque>
#include <list>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard::nats {

class jetstream_backplane {
public:
    using delivery_handler = std::function<void(message_ptr const&)>;
    using publish_handler = std::function<void(boost::system::error_code, position)>;
    using history_handler = std::function<void(boost::system::error_code, history_result)>;
    using gap_handler = std::function<void(std::string const& topic)>;

    /// Connects at once (see nats_link::start). Throws std::invalid_argument for a bad prefix.
    jetstream_backplane(boost::asio::any_io_executor ex, link_options link, jetstream_options options,
                   history_options history = {});
    ~jetstream_backplane();

    void set_delivery(delivery_handler h) { delivery_ = std::move(h); }
    void set_gap(gap_handler h) { gap_ = std::move(h); }
    /// Told after the backplane itself each time the link comes up (also after a reconnect) or goes down.
    void set_link_observer(nats_link::state_handler h) { link_observer_ = std::move(h); }

    /// With an idempotency key (publish_options.hpp): sent as Nats-Msg-Id "<topic> <key>", so that JetStream's
    /// duplicate detection (the stream's duplicate_window) refuses a retry's copy, on any node; its PubAck names
    /// the first message's stream sequence, whose position is read back and answered.
    void publish(std::string topic, std::string data, std::string idempotency_key, publish_handler done);
    void publish(std::string topic, std::string data, publish_handler done)
    {
        publish(std::move(topic), std::move(data), {}, std::move(done));
    }
    /// See backplane::history (a page of at most max_bytes of envelopes).
    void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                 history_handler done);
    /// See backplane::pattern_history and pattern_reader.hpp: the sequence is the stream's, its epoch the
    /// stream's creation time.
    void pattern_history(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                         std::size_t max_topics, backplane::pattern_history_handler done);
    void subscribe(std::string const& topic);
    void unsubscribe(std::string const& topic);
    /// A core subscription on the pattern's live subjects; each topic it brings is followed as a subscribed one
    /// (order, once, catch-up, gaps), at most max_pattern_topics of them (least recently seen forgotten first).
    void subscribe_pattern(std::string const& pattern);
    void unsubscribe_pattern(std::string const& pattern);
    /// `done` once NATS has the pattern's subscription (a round trip after it), or with an error.
    void pattern_ready(std::string const& pattern, std::function<void(boost::system::error_code)> done);
    std::size_t subscribed_patterns() const noexcept { return patterns_.size(); }
    std::size_t pattern_topics() const noexcept { return pattern_topics_.size(); }
    std::optional<position> delivered(std::string const& topic) const;
    void close();
    /// Connected, and the stream is there as configured.
    bool connected() const noexcept { return link_.connected() && stream_ready_; }
    void set_history(history_options history);

    nats_link& link() noexcept { return link_; }
    subjects const& names() const noexcept { return names_; }
    std::string const& stream() const noexcept { return stream_; }
    /// Topics subscribed on NATS (for metrics and tests).
    std::size_t subscribed_topics() const noexcept;

    history_reader& reader() noexcept { return reader_; }
    pattern_reader& patterns_reader() noexcept { return pattern_reader_; }

private:
    // The last message of a topic this node knows of: what its next publish builds on. seq 0: the topic is empty.
    struct tip {
        std::uint64_t offset = 0;
        std::string epoch;
        std::uint64_t seq = 0;
    };
    struct publish_job {
        std::string data;
        publish_handler done;
        int conflicts = 0;
        bool marker = false;  // an epoch marker (see mark()), not a message
        std::string idempotency_key;
    };
    struct topic_state {
        // publishing
        std::optional<tip> last_known;
        std::deque<publish_job> queue;
        bool publishing = false;
        // live delivery
        bool wanted = false;
        std::uint64_t subscription = 0;
        std::optional<position> last;  // the last message delivered here
        detail::recent_messages recent;  // the last ones delivered, ending at `last`, for history reads
        bool catching_up = false;
        bool catch_up_failed = false;  // NATS went away meanwhile: again once it is back
        std::vector<message_ptr> held;
        // followed through a pattern
        bool by_pattern = false;
        std::list<std::string>::iterator seen;  // its place in pattern_topics_, while by_pattern
    };
    void on_link(bool up);
    void ensure_stream();
    void retry_stream_later();
    void on_stream_ready();

    void read(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes, int marks,
              history_handler done);
    void mark(std::string const& topic, publish_handler done);
    void pump(std::string const& topic);
    void send(std::string const& topic);
    void retry_after_conflict(std::string const& topic, int conflicts);
    /// How many of the queue's first publishes go in the next record (see the top of this file).
    std::size_t record_size(std::deque<publish_job> const& queue) const;
    /// Answers the queue's first `count` publishes: the i-th with `where` + i, or all with `ec`.
    void finish(std::string const& topic, boost::system::error_code ec, position where, std::size_t count = 1);
    /// A publish JetStream found a duplicate of the message at `seq`: answered with that message's position.
    void finish_duplicate(std::string const& topic, std::uint64_t seq);
    void learn(topic_state& t, std::uint64_t offset, std::string const& epoch, std::uint64_t seq);

    void on_live(std::string const& topic, natsMsg* m);
    void accept(std::string const& topic, topic_state& t, message_ptr const& m);
    void catch_up(std::string const& topic, topic_state& t);
    void release_held(std::string const& topic, topic_state& t);
    void retry_catch_ups_later();
    void gap(std::string const& topic, topic_state& t, position now, message_ptr const& next = nullptr);
    /// `m` goes to the node: the topic's last message from now on.
    void deliver(topic_state& t, message_ptr const& m);
    /// The topic's stream starts over (a gap, an unsubscribe): nothing delivered before counts.
    static void restart(topic_state& t);
    void forget_if_idle(std::string const& topic);
    void on_pattern_live(natsMsg* m);
    topic_state& follow(std::string const& topic);
    void forget_pattern_topic(std::string topic);
    /// The topic's state while this node follows it (wanted), else null.
    topic_state* following(std::string const& topic);

    boost::asio::any_io_executor ex_;
    nats_link link_;
    jetstream_options options_;
    history_options history_;
    subjects names_;
    std::string stream_;
    history_reader reader_;
    pattern_reader pattern_reader_;
    bool stream_ready_ = false;
    bool stream_busy_ = false;
    bool stream_check_again_ = false;  // the history options changed while the stream was being checked
    bool closed_ = false;
    boost::asio::steady_timer stream_retry_;
    boost::asio::steady_timer catch_up_retry_;  // catch-ups that failed while NATS stayed up (a timeout)
    bool catch_up_retry_armed_ = false;
    std::mt19937_64 random_;
    std::size_t pending_publishes_ = 0;
    detail::recent_budget recent_;  // before the topics: they give their share back as they go
    std::unordered_map<std::string, topic_state> topics_;
    std::unordered_map<std::string, std::uint64_t> patterns_;  // this node's patterns, and their subscriptions
    std::list<std::string> pattern_topics_;                    // followed through patterns, least recent first
    bool ever_ready_ = false;                                  // up once already: a later up is a return
    delivery_handler delivery_;
    gap_handler gap_;
    nats_link::state_handler link_observer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted handlers run only while it lives
};

}  // namespace switchboard::nats
