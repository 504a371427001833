#pragma once
// A read-only view of a server's hub: which channels are subscribed to which topic on this node, and the
// fan-out's counters. What tests, examples and operations read; subscribing and delivering go through the
// server (server::subscribe, server::publish), which applies topic validation, limits, history and the
// backplane that the hub alone knows nothing of.
//
// Thread-safety: loop thread only, as the hub it views. Cheap to copy; valid while its server lives.

#include <switchboard/hub.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard {

class hub_view {
public:
    explicit hub_view(hub const& h) noexcept : hub_(&h) {}

    /// Local subscribers of `topic` (subscriptions still being made are not counted).
    std::size_t subscriber_count(std::string_view topic) const { return hub_->subscriber_count(topic); }
    /// The channels subscribed to `topic` now (a copy: closing them changes the hub).
    std::vector<channel_ptr> subscribers(std::string_view topic) const { return hub_->subscribers(topic); }
    bool subscribed(channel const& ch, std::string_view topic) const { return hub_->subscribed(ch, topic); }
    /// Topics with local subscribers.
    std::size_t topic_count() const noexcept { return hub_->topic_count(); }
    /// Distinct patterns with local subscribers, and subscriptions to patterns in all.
    std::size_t pattern_count() const noexcept { return hub_->pattern_count(); }
    std::size_t pattern_subscription_count() const noexcept { return hub_->pattern_subscription_count(); }
    bool subscribed_pattern(channel const& ch, std::string_view pattern) const
    {
        return hub_->subscribed_pattern(ch, pattern);
    }
    /// Calls `f(topic, subscriber_count)` for every topic with local subscribers.
    template <class F>
    void for_each_topic(F&& f) const
    {
        hub_->for_each_topic(std::forward<F>(f));
    }
    /// Subscriptions of all channels on all topics.
    std::size_t subscription_count() const noexcept { return hub_->subscription_count(); }
    /// Messages fanned out, and deliveries made (one per subscribed channel), since the server was made.
    std::uint64_t messages_delivered() const noexcept { return hub_->messages_delivered(); }
    std::uint64_t deliveries() const noexcept { return hub_->deliveries(); }

private:
    hub const* hub_;
};

}  // namespace switchboard
