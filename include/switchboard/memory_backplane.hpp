#pragma once
// The embedded backplane: positions and history in this process's memory, nothing to install. Delivers every
// message straight back to this node. Epochs are random per topic and process, so a restart is detected by
// resuming clients (recovered:false).
//
// Bounded as a whole (history_options): history bytes across topics (the oldest messages go first), topics with
// state, and the topics each client created. A topic nobody subscribes to and with no history left is idle: it
// keeps only its position (so clients coming back to a quiet topic resume it), and is dropped as soon as a new
// topic needs its room, or by the periodic sweep.

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>
#include <switchboard/detail/string_hash.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard {

class memory_backplane final : public backplane {
public:
    memory_backplane(boost::asio::any_io_executor ex, history_options options = {});
    ~memory_backplane() override;

    void publish(std::string topic, std::string data, publish_handler done) override;
    void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                 history_handler done) override;
    void pattern_history(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                         std::size_t max_topics, pattern_history_handler done) override;
    void subscribe(std::string const& topic) override;
    void unsubscribe(std::string const& topic) override;
    std::optional<position> delivered(std::string const& topic) const override;
    void close() override;
    char const* name() const noexcept override { return "memory"; }
    bool delivers_every_topic() const noexcept override { return true; }
    /// Applied to every topic at once, trimming what exceeds the new limits.
    void set_history_options(history_options options) override;

    /// Topics with state (in use or idle).
    std::size_t topic_count() const noexcept { return topics_.size(); }
    /// History held across topics, in the bytes history_options::max_bytes counts.
    std::size_t history_bytes() const noexcept { return history_bytes_; }
    /// What a message costs in history_bytes(): its envelope plus bookkeeping.
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
        bool subscribed = false;
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
    /// The topic's state, made if need be (charged to client()); null when a bound refuses a new one.
    entry* find_or_create(std::string const& topic);
    bool make_room_for(std::string_view client);
    void drop(entry& e);
    void append(entry& e, message_ptr const& m);
    void pop_oldest(entry& e);
    void prune(entry& e, clock::time_point now);
    void evict_past_max_bytes();
    /// After a change to its subscription or history: moves the topic in or out of the idle lists.
    void settle(entry& e);
    void forget(entry const& e);
    void schedule_sweep();
    void sweep();

    history_options options_;
    boost::asio::steady_timer sweep_timer_;
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
    bool closed_ = false;
};

}  // namespace switchboard
