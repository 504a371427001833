#pragma once
// The memory backplane's state: every topic's position and bounded history, the backplane's sequence and the
// bounds across topics (history_options). No executor and no lock: memory_backplane holds one for its single
// loop, loop_cluster one behind its mutex for every loop of the process, so that one place assigns offsets.
// Each call answers at once; the caller hands the answer to its loop.

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>
#include <switchboard/detail/string_hash.hpp>

#include "backplanes/presence_store.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace switchboard::detail {

class memory_store {
public:
    explicit memory_store(history_options options = {});
    memory_store(memory_store const&) = delete;
    memory_store& operator=(memory_store const&) = delete;

    struct publish_answer {
        boost::system::error_code ec;
        message_ptr message;  // with its position and sequence; null when refused, or a duplicate
        position where;       // the message's position, or a duplicate's: the first publish's
    };
    /// Assigns the topic's next offset and the next sequence, appends history. Refused (too_many_topics) when a
    /// new topic exceeds a bound; a topic is charged to `client` (backplane::on_behalf_of). With an idempotency
    /// key (valid, or empty: none) the topic was published with within the window: no message, the first one's
    /// position (backplane::publish).
    publish_answer publish(std::string topic, std::string data, std::string_view client,
                           std::string_view idempotency_key = {});

    /// Idempotency keys remembered (for tests and metrics).
    std::size_t idempotency_key_count() const noexcept { return idempotency_.size(); }

    struct history_answer {
        boost::system::error_code ec;
        history_result result;
    };
    history_answer history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                           std::string_view client);

    struct pattern_history_answer {
        boost::system::error_code ec;
        pattern_history_result result;
    };
    pattern_history_answer pattern_history(std::string const& pattern, std::optional<position> const& since,
                                           std::size_t max_bytes, std::size_t max_topics);

    /// One more (one fewer) node subscribed to `topic`. False when no bound lets `client` take the topic on:
    /// then it is not counted, and the caller must not unsubscribe it.
    bool subscribe(std::string const& topic, std::string_view client);
    void unsubscribe(std::string const& topic);

    /// The topic's position now, when it has one.
    std::optional<position> position_of(std::string_view topic) const;

    /// Applied to every topic at once, trimming what exceeds the new limits.
    void set_options(history_options options);
    std::chrono::seconds sweep_interval() const noexcept { return options_.sweep_interval; }
    /// Drops expired history and idle topics (memory_backplane calls it every sweep_interval).
    void sweep();

    std::size_t topic_count() const noexcept { return topics_.size(); }
    /// Every topic's members (presence), apart from the topics' streams: a topic may have members and no history.
    presence_store presence;
    std::size_t history_bytes() const noexcept { return history_bytes_; }
    static std::size_t cost(message const& m) noexcept;

private:
    using clock = std::chrono::steady_clock;
    struct topic_state;
    using entry = std::pair<std::string const, topic_state>;
    using entry_list = std::list<entry*>;
    // The topics one client created, and those of them that are idle (oldest first: dropped first).
    struct client_topics {
        std::size_t count = 0;
        entry_list idle;
    };
    using client_entry = std::pair<std::string const, client_topics>;

    struct topic_state {
        std::string epoch;
        std::uint64_t offset = 0;
        std::deque<message_ptr> history;
        history_limits const* limits = nullptr;
        std::size_t subscribers = 0;            // nodes subscribed to it (memory_backplane: 0 or 1)
        client_entry* owner = nullptr;          // the client that created it; null: the service, or unbounded
        bool idle = false;                      // no subscriber, no history: in idle_ (and its owner's list)
        entry_list::iterator idle_at;
        entry_list::iterator owner_idle_at;
        std::optional<clock::time_point> aged;  // its key in by_age_ (its oldest message's time), while it has history
        std::uint64_t last_sequence = 0;        // its last message's sequence (0: none yet)
        std::uint64_t dropped_sequence = 0;     // the newest sequence its history no longer has (trimmed, never kept)
        entry_list::iterator active_at;         // in active_, once published
    };
    // A topic dropped with messages a pattern resume could ask for: named in `lost` while remembered.
    struct forgotten_topic {
        std::string name;
        std::uint64_t last_sequence;
    };

    entry* find(std::string_view topic);
    /// The topic's state, made if need be (charged to `client`); null when a bound refuses a new one.
    entry* find_or_create(std::string const& topic, std::string_view client);
    bool make_room_for(std::string_view client);
    void drop(entry& e);
    void append(entry& e, message_ptr const& m);
    void pop_oldest(entry& e);
    void prune(entry& e, clock::time_point now);
    void evict_past_max_bytes();
    /// After a change to its subscription or history: moves the topic in or out of the idle lists.
    void settle(entry& e);
    void forget(entry const& e);
    /// Forgets the keys past the window, and the oldest past max_idempotency_keys.
    void expire_idempotency_keys(clock::time_point now);

    history_options options_;
    std::unordered_map<std::string, topic_state, detail::string_hash, std::equal_to<>> topics_;
    std::unordered_map<std::string, client_topics, detail::string_hash, std::equal_to<>> clients_;
    entry_list idle_;                                       // every idle topic, oldest first
    std::set<std::pair<clock::time_point, entry*>> by_age_;  // topics with history by their oldest message
    std::size_t history_bytes_ = 0;
    // The backplane's sequence (backplane::pattern_history): the last one given, in an epoch of this process.
    std::uint64_t sequence_ = 0;
    std::string sequence_epoch_;
    entry_list active_;                                      // published topics, least recently published first
    std::deque<forgotten_topic> forgotten_;                  // dropped topics, bounded by max_topics
    std::uint64_t forgotten_past_ = 0;                      // the newest sequence of a topic no longer remembered
    std::mt19937_64 random_;

    // Idempotency keys, by "<topic> <key>" (a topic has no space): the position each was published at. One window
    // for all, so the order they were recorded in is the order they expire in: the oldest first in both.
    struct idempotency_record {
        position where;
        clock::time_point recorded;
    };
    using idempotency_entry = std::pair<std::string const, idempotency_record>;
    std::unordered_map<std::string, idempotency_record, detail::string_hash, std::equal_to<>> idempotency_;
    std::deque<idempotency_entry*> idempotency_order_;  // oldest first
};

}  // namespace switchboard::detail
