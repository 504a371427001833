#pragma once
// The embedded backplane: positions and history in this process's memory, nothing to install. Delivers every
// message straight back to this node. Epochs are random per topic and process, so a restart is detected by
// resuming clients (recovered:false).

#include <switchboard/backplane.hpp>
#include <switchboard/detail/string_hash.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard {

/// How much of a topic's stream is kept for resuming clients.
struct history_limits {
    std::size_t max_messages = 10'000;            // per topic; 0 keeps no history
    std::chrono::seconds max_age{300};            // per message
};

struct history_options {
    history_limits limits;                         // the server-wide default
    struct prefix_rule {
        std::string prefix;                        // topics starting with this (longest prefix wins)
        history_limits limits;
    };
    std::vector<prefix_rule> overrides;
    std::size_t max_topics = 100'000;              // topics with state (history or subscribers); publish beyond: error
    std::chrono::seconds sweep_interval{10};       // how often expired history and idle topics are dropped
};

class memory_backplane final : public backplane {
public:
    memory_backplane(boost::asio::any_io_executor ex, history_options options = {});
    ~memory_backplane() override;

    void publish(std::string topic, std::string data, publish_handler done) override;
    void history(std::string const& topic, std::optional<position> const& since, history_handler done) override;
    void subscribe(std::string const& topic) override;
    void unsubscribe(std::string const& topic) override;
    void close() override;
    char const* name() const noexcept override { return "memory"; }

    std::size_t topic_count() const noexcept { return topics_.size(); }

    /// New history limits (a configuration reload): applied to every topic at once, trimming what exceeds them.
    void set_options(history_options options);

private:
    struct topic_state {
        std::string epoch;
        std::uint64_t offset = 0;
        std::deque<message_ptr> history;
        history_limits const* limits = nullptr;
        bool subscribed = false;
    };

    topic_state* find_or_create(std::string const& topic);
    history_limits const& limits_for(std::string_view topic) const;
    void prune(topic_state& t, std::chrono::steady_clock::time_point now) const;
    void schedule_sweep();
    void sweep();
    std::string new_epoch();

    history_options options_;
    boost::asio::steady_timer sweep_timer_;
    std::unordered_map<std::string, topic_state, detail::string_hash, std::equal_to<>> topics_;
    std::mt19937_64 random_;
    bool closed_ = false;
};

}  // namespace switchboard
