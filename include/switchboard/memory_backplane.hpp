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

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace switchboard {

namespace detail {
class memory_store;
}

class memory_backplane final : public backplane {
public:
    memory_backplane(boost::asio::any_io_executor ex, history_options options = {});
    ~memory_backplane() override;

    using backplane::publish;
    void publish(std::string topic, std::string data, publish_options options, publish_handler done) override;
    void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                 history_handler done) override;
    void pattern_history(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                         std::size_t max_topics, pattern_history_handler done) override;
    void subscribe(std::string const& topic) override;
    void unsubscribe(std::string const& topic) override;
    std::optional<position> delivered(std::string const& topic) const override;
    void close() override;
    bool supports_presence() const noexcept override { return true; }
    void presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                       presence_handler done) override;
    void presence_leave(std::string const& topic, std::string const& client) override;
    void presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                          presence_page_handler done) override;
    void presence_stats(std::string const& topic, presence_counts_handler done) override;
    std::optional<presence_totals> presence_size() const override;
    char const* name() const noexcept override { return "memory"; }
    bool delivers_every_topic() const noexcept override { return true; }
    /// Applied to every topic at once, trimming what exceeds the new limits.
    void set_history_options(history_options options) override;

    /// Topics with state (in use or idle).
    std::size_t topic_count() const noexcept;
    /// Idempotency keys remembered (history_options::max_idempotency_keys bounds them).
    std::size_t idempotency_key_count() const noexcept;
    /// History held across topics, in the bytes history_options::max_bytes counts.
    std::size_t history_bytes() const noexcept;
    /// What a message costs in history_bytes(): its envelope plus bookkeeping.
    static std::size_t cost(message const& m) noexcept;

private:
    void schedule_sweep();

    std::unique_ptr<detail::memory_store> store_;
    boost::asio::steady_timer sweep_timer_;
    bool closed_ = false;
};

}  // namespace switchboard
