#pragma once
// The embedded backplane: positions and history in this process's memory, nothing to install. Delivers every
// message straight back to this node. Epochs are random per topic and process, so a restart is detected by
// resuming clients (recovered:false).

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>
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

class memory_backplane final : public backplane {
public:
    memory_backplane(boost::asio::any_io_executor ex, history_options options = {});
    ~memory_backplane() override;

    void publish(std::string topic, std::string data, publish_handler done) override;
    void history(std::string const& topic, std::optional<position> const& since, history_handler done) override;
    void subscribe(std::string const& topic) override;
    void unsubscribe(std::string const& topic) override;
    std::optional<position> delivered(std::string const& topic) const override;
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
    void prune(topic_state& t, std::chrono::steady_clock::time_point now) const;
    void schedule_sweep();
    void sweep();

    history_options options_;
    boost::asio::steady_timer sweep_timer_;
    std::unordered_map<std::string, topic_state, detail::string_hash, std::equal_to<>> topics_;
    std::mt19937_64 random_;
    bool closed_ = false;
};

}  // namespace switchboard
