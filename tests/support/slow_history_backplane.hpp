#pragma once
// A backplane for tests that keep subscriptions in progress: the memory backplane, except that history reads
// wait until the test answers them.

#include <switchboard/backplane.hpp>
#include <switchboard/memory_backplane.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {

// The memory backplane, except that history reads wait until the test answers them: every subscribe's join
// stays in progress, holding what is published meanwhile.
class slow_history_backplane final : public backplane {
public:
    explicit slow_history_backplane(boost::asio::any_io_executor ex) : inner_(ex)
    {
        inner_.set_delivery([this](message_ptr const& m) { deliver(m); });
        inner_.set_gap([this](std::string const& topic) { report_gap(topic); });
    }

    using backplane::publish;
    void publish(std::string topic, std::string data, publish_options options, publish_handler done) override
    {
        inner_.publish(std::move(topic), std::move(data), std::move(options), std::move(done));
    }
    void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                 history_handler done) override
    {
        waiting_.push_back(
            [this, topic, since, max_bytes, done = std::move(done)] { inner_.history(topic, since, max_bytes, done); });
    }
    void subscribe(std::string const& topic) override { inner_.subscribe(topic); }
    void unsubscribe(std::string const& topic) override { inner_.unsubscribe(topic); }
    std::optional<position> delivered(std::string const& topic) const override { return inner_.delivered(topic); }
    void close() override { inner_.close(); }
    char const* name() const noexcept override { return "slow-history"; }

    std::size_t waiting() const { return waiting_.size(); }
    void answer_all()
    {
        auto answers = std::move(waiting_);
        waiting_.clear();
        for (auto& answer : answers)
            answer();
    }

private:
    memory_backplane inner_;
    std::vector<std::function<void()>> waiting_;
};

}  // namespace switchboard::test
