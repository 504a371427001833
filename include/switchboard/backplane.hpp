#pragma once
// The backplane: what assigns positions, keeps history and links nodes. Every message takes one path:
//
//   publish -> backplane.publish (assigns the offset, appends history) -> every node's delivery handler
//           -> hub.deliver -> each subscribed channel
//
// The in-memory backplane hands messages straight back to its own node, so one node and a cluster share that
// path and its ordering. Implementations: memory_backplane (embedded default), Redis (see docs/scaling.md).
//
// Thread-safety: every member runs on the loop thread, and every handler is invoked there. Handlers may run
// before the call that takes them returns (the memory backplane completes at once).
//
// tests/backplanes/contract_test.cpp states what every backplane promises and runs it against each one; a new
// backplane adds itself there.

#include <switchboard/error.hpp>
#include <switchboard/history_options.hpp>
#include <switchboard/message.hpp>
#include <switchboard/position.hpp>
#include <switchboard/presence.hpp>
#include <switchboard/publish_options.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace switchboard {

struct history_result {
    std::vector<message_ptr> messages;  // after the requested position, oldest first: the whole rest, or a page
    position latest;                    // the topic's position now (past the last message when only a page came)
    bool recovered = true;              // false: messages after the requested position are gone (or the epoch changed)
};

/// A pattern's history (backplane::pattern_history): what every topic the pattern matches got after a sequence.
struct pattern_history_result {
    std::vector<message_ptr> messages;  // of the matched topics, after the requested sequence, in sequence order
    position latest;                    // the backplane's sequence now: offset is the last sequence given, in its epoch
    std::vector<std::string> lost;      // matched topics whose messages after the requested sequence are partly gone
    bool recovered = true;              // false: `lost` is not empty, the epoch changed, or messages after the
                                        // requested sequence are gone from topics the backplane can no longer name
    bool more = false;                  // a page only: read on from messages.back()->sequence()
};

class backplane {
public:
    using delivery_handler = std::function<void(message_ptr const&)>;
    using publish_handler = std::function<void(boost::system::error_code, position)>;
    using history_handler = std::function<void(boost::system::error_code, history_result)>;
    using gap_handler = std::function<void(std::string const& topic)>;
    using pattern_history_handler = std::function<void(boost::system::error_code, pattern_history_result)>;
    using presence_delivery_handler = std::function<void(presence_event_ptr const&)>;
    using presence_handler = std::function<void(boost::system::error_code)>;
    using presence_page_handler = std::function<void(boost::system::error_code, presence_page)>;
    using presence_counts_handler = std::function<void(boost::system::error_code, presence_counts)>;

    virtual ~backplane() = default;

    /// Where this node receives every message of the topics it is subscribed to, each topic in offset order
    /// with no duplicate. Set once, before use.
    void set_delivery(delivery_handler h) { delivery_ = std::move(h); }
    /// Called when this node may have missed messages of `topic` it cannot recover (its broker lost them, or
    /// the topic's epoch changed under it): the node's subscribers must be told, those of the topic and those
    /// of patterns matching it. Called with a pattern (is_valid_pattern) instead when messages of topics the
    /// pattern matches may be missing that the node cannot name (a pattern's broker subscription came back
    /// after a lost connection): the pattern's subscribers must be told. Set once, before use.
    void set_gap(gap_handler h) { gap_ = std::move(h); }

    /// Where this node receives every presence event (a member joined or left a topic), of every topic, each
    /// topic's in the order the backplane took them. Set once, before use.
    void set_presence_delivery(presence_delivery_handler h) { presence_delivery_ = std::move(h); }

    /// Presence (presence.hpp): a topic's members, shared by every node. A backplane that keeps it says true
    /// here; the others answer every presence call with error::presence_unavailable, and the server refuses
    /// presence to clients with that error (Redis and NATS: not yet; docs/scaling.md).
    virtual bool supports_presence() const noexcept { return false; }
    /// Adds `member` to `topic`'s members and hands every node its join event, then calls `done`. Refused with
    /// error::too_many_members when the topic has `max_members` already. A client id already present is left as
    /// it is (no event, no error): its channel joined already, or took over the id within the reconnect grace.
    virtual void presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                               presence_handler done)
    {
        (void)topic;
        (void)member;
        (void)max_members;
        done(make_error_code(error::presence_unavailable));
    }
    /// Removes `client` from `topic`'s members and hands every node its leave event; nothing when it is not one.
    virtual void presence_leave(std::string const& topic, std::string const& client)
    {
        (void)topic;
        (void)client;
    }
    /// At most `limit` members of `topic` whose client id sorts after `after` (empty: from the first), in client
    /// id order, and the cursor of the next page. A topic nobody is present in has no members (not an error).
    virtual void presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                                  presence_page_handler done)
    {
        (void)topic;
        (void)after;
        (void)limit;
        done(make_error_code(error::presence_unavailable), {});
    }
    /// How many clients and distinct users are present in `topic`: O(1).
    virtual void presence_stats(std::string const& topic, presence_counts_handler done)
    {
        (void)topic;
        done(make_error_code(error::presence_unavailable), {});
    }

    /// Members of every topic and topics with members, as this backplane keeps them, for GET /metrics (O(1)); nothing
    /// from a backplane that keeps no presence.
    virtual std::optional<presence_totals> presence_size() const { return std::nullopt; }

    /// Publishes `data` (JSON text, delivered byte for byte; it may hold line feeds) to `topic` (a valid name).
    /// On success the message has its position and is in history; `done` gets that position.
    ///
    /// With an idempotency key (publish_options.hpp): a key this topic was published with within
    /// history_options::idempotency_window is answered with that publish's position, and nothing is published or
    /// delivered; checked and recorded in the same atomic step as the publish (memory: the store; Redis: the
    /// publish script; NATS: JetStream's own duplicate detection), so that a retry on another node, or one that
    /// arrives while the first is still in flight, is not published twice. The memory store's keys are bounded
    /// too (history_options::max_idempotency_keys, the oldest forgotten first).
    virtual void publish(std::string topic, std::string data, publish_options options, publish_handler done) = 0;
    /// A publish without options. An implementation brings it into scope with `using backplane::publish;`.
    void publish(std::string topic, std::string data, publish_handler done)
    {
        publish(std::move(topic), std::move(data), publish_options{}, std::move(done));
    }

    /// No bound on a history read: every message after the position.
    static constexpr std::size_t whole_history = std::numeric_limits<std::size_t>::max();

    /// The messages of `topic` after `since`, oldest first, and its current position. Without `since`: no
    /// messages, the position only (a subscriber that starts from now). A read returns a page: messages while
    /// their envelopes total at most `max_bytes` (the first one always), so a reader pages through a long
    /// history and holds one page at a time; `messages.back()->offset() < latest.offset` says more remain.
    virtual void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                         history_handler done) = 0;

    /// The messages of every topic `pattern` matches (a valid pattern, topic.hpp) after the sequence `since`,
    /// topics made after it included, in sequence order (so each topic in offset order), and the backplane's
    /// sequence now. Every publish gets the backplane's next sequence (message::sequence), across all topics and
    /// nodes, in an epoch of its own (a new one when the backplane lost its state: `since` from another epoch is
    /// recovered:false with no messages). A pattern subscriber keeps the sequence of the last message it got and
    /// resumes from it: one number per pattern, however many topics it matches. Without `since`: no messages, the
    /// sequence only (a subscriber that starts from now).
    ///
    /// A read returns a page as history() does (envelopes totalling at most `max_bytes`, the first message
    /// always; `more` says the rest follows the last message's sequence). More than `max_topics` matched topics
    /// with messages after `since` fail the read with error::too_many_topics: a resume is bounded by what a
    /// client may hold. A topic whose messages after `since` history no longer has in full is named in `lost`
    /// (its remaining messages still come; at most `max_topics` names, recovered:false saying the rest);
    /// messages gone with topics the backplane no longer knows make recovered false with nobody named.
    ///
    /// Virtual with a default that has nothing (recovered:false, never a silent empty answer): a backplane that
    /// keeps no sequence cannot resume patterns.
    virtual void pattern_history(std::string const& pattern, std::optional<position> const& since,
                                 std::size_t max_bytes, std::size_t max_topics, pattern_history_handler done)
    {
        (void)pattern;
        (void)max_bytes;
        (void)max_topics;
        pattern_history_result r;
        r.recovered = !since.has_value();
        done({}, std::move(r));
    }

    /// New history limits, for every topic from now on (a configuration reload): the per-topic limits
    /// (limits_for) and the memory backplane's bounds across topics. What already exceeds them is trimmed as
    /// the backplane can (memory: at once; Redis: each topic at its next publish, and reads apply max_age).
    ///
    /// Set as a whole here rather than carried by each publish (centrifuge's PublishOptions): limits also apply
    /// on read (Redis drops entries older than max_age from a history answer; a NATS stream applies them on its
    /// side), the memory backplane has bounds across topics no publish could carry, and one setter keeps
    /// publish's signature the same for every caller.
    ///
    /// Virtual with a default that keeps nothing rather than pure: a backplane whose broker owns its history
    /// limits, or one that wraps another (a test double), has nothing to apply, and one written before this
    /// call existed keeps compiling. A backplane that keeps history itself overrides it, or a reload does not
    /// reach it.
    virtual void set_history_options(history_options options) { (void)options; }

    /// This node wants (or no longer wants) the messages of `topic`. Driven by the hub's first/last subscriber.
    /// Unsubscribing saves traffic; it does not filter: a node may still receive the topic's messages (the
    /// memory backplane hands every publish back to its node), and the hub drops those of topics nobody holds.
    virtual void subscribe(std::string const& topic) = 0;
    virtual void unsubscribe(std::string const& topic) = 0;

    /// This node wants (or no longer wants) the messages of every topic `pattern` matches (a valid pattern,
    /// topic.hpp), topics that do not exist yet included. Driven by the hub's first/last subscriber of the
    /// pattern (hub::on_pattern_interest), as subscribe/unsubscribe are for topics. A topic reached through a
    /// pattern is delivered as a subscribed topic is (offset order, once, gaps reported), also when the node
    /// holds it exactly too or through several patterns. Like unsubscribe, it does not filter: the node may get
    /// more than its patterns match (the hub's pattern trie drops what no subscriber matches).
    ///
    /// Virtual with empty defaults: a backplane that hands every topic to every node (delivers_every_topic,
    /// the memory backplane) has nothing to follow. One that overrides them says so with delivers_patterns().
    virtual void subscribe_pattern(std::string const& pattern) { (void)pattern; }
    virtual void unsubscribe_pattern(std::string const& pattern) { (void)pattern; }

    /// Calls `done` once this node receives the messages of the topics `pattern` matches (its subscription to
    /// the pattern holds, after subscribe_pattern), or with error::backplane_unavailable when it cannot now (its
    /// broker is unreachable). Once, on the loop thread, maybe before this returns. A pattern subscriber is told
    /// it is subscribed only after this, so that a message published after that answer reaches it. Default: at
    /// once.
    using ready_handler = std::function<void(boost::system::error_code)>;
    virtual void pattern_ready(std::string const& pattern, ready_handler done)
    {
        (void)pattern;
        done({});
    }

    /// The position of the last message of `topic` this node delivered, when it knows one. A subscriber that
    /// joins with history up to position P takes over from the node's stream once the node is at P or past it.
    virtual std::optional<position> delivered(std::string const& topic) const = 0;

    /// While the returned scope lives, the topics the backplane takes on (a publish or subscribe to a topic it
    /// holds nothing of) are charged to `client` ("user:ID", "ip:ADDRESS"; empty: the service itself, never
    /// bounded), so that a backplane bounding topics per client knows whom to count (the memory backplane:
    /// history_options::max_topics_per_client). The server opens one around each client's publish and subscribe.
    class client_scope {
    public:
        client_scope(backplane& b, std::string client) : owner_(b), previous_(std::move(b.client_))
        {
            owner_.client_ = std::move(client);
        }
        client_scope(client_scope const&) = delete;
        client_scope& operator=(client_scope const&) = delete;
        ~client_scope() { owner_.client_ = std::move(previous_); }

    private:
        backplane& owner_;
        std::string previous_;
    };
    [[nodiscard]] client_scope on_behalf_of(std::string client) { return {*this, std::move(client)}; }

    /// Stops background work (timers, connections) so the loop can finish.
    virtual void close() = 0;

    /// False while the backplane cannot publish (e.g. its broker is unreachable): /readyz reports it.
    virtual bool connected() const noexcept { return true; }
    /// True when every node receives every topic's messages whatever it subscribed to (the memory backplane),
    /// so that pattern subscriptions (hub::subscribe_pattern) see every topic they match.
    virtual bool delivers_every_topic() const noexcept { return false; }
    /// True when pattern subscriptions work over this backplane: it delivers every topic, or it follows
    /// patterns (subscribe_pattern). The server refuses patterns over a backplane that says false.
    virtual bool delivers_patterns() const noexcept { return delivers_every_topic(); }
    /// A short name for logs and metrics ("memory", "redis").
    virtual char const* name() const noexcept = 0;

protected:
    void deliver(message_ptr const& m) const
    {
        if (delivery_)
            delivery_(m);
    }

    void deliver_presence(presence_event_ptr const& e) const
    {
        if (presence_delivery_)
            presence_delivery_(e);
    }

    void report_gap(std::string const& topic) const
    {
        if (gap_)
            gap_(topic);
    }

    /// The client a topic taken on now is charged to (see on_behalf_of); empty outside it.
    std::string const& client() const noexcept { return client_; }

private:
    delivery_handler delivery_;
    presence_delivery_handler presence_delivery_;
    gap_handler gap_;
    std::string client_;
};

}  // namespace switchboard
