#pragma once
// The hub: which channels are subscribed to which topic on this node, and the fan-out of each message to them.
// It knows nothing of transports (it calls channel::deliver) nor of other nodes (the backplane calls deliver()).
//
// Thread-safety: none, by design. Every member runs on the loop thread; other threads post onto the loop.

#include <switchboard/channel.hpp>
#include <switchboard/message.hpp>
#include <switchboard/presence.hpp>
#include <switchboard/detail/string_hash.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchboard {

namespace detail {
struct hub_topic;
struct pattern_node;
class pattern_trie;
}

class hub {
public:
    /// Called with a topic when it gains its first local subscriber, and when it loses its last one (so the
    /// backplane subscribes this node to it, or stops).
    using interest_handler = std::function<void(std::string const& topic)>;

    hub();
    ~hub();
    hub(hub const&) = delete;
    hub& operator=(hub const&) = delete;

    void on_interest(interest_handler first_subscriber, interest_handler last_unsubscriber);
    /// The same for patterns: called with a pattern when it gains its first local subscriber and when it loses
    /// its last one (so the backplane follows the pattern's topics on this node: backplane::subscribe_pattern).
    void on_pattern_interest(interest_handler first_subscriber, interest_handler last_unsubscriber);

    /// Subscribes `ch` to `topic` (already validated). Returns false when it already was.
    /// subscribe, unsubscribe and subscribed cost O(1), whatever the number of topics or channels.
    bool subscribe(channel& ch, std::string const& topic);
    /// Returns false when `ch` was not subscribed.
    bool unsubscribe(channel& ch, std::string_view topic);
    /// Every subscription of `ch`; part of every channel's close path.
    void unsubscribe_all(channel& ch);
    bool subscribed(channel const& ch, std::string_view topic) const;

    /// Subscribes `ch` to `pattern` (already validated: is_valid_pattern): every message whose topic the
    /// pattern matches reaches it. Returns false when it already was. O(tokens of the pattern + patterns of
    /// `ch`); patterns raise no topic's interest (on_interest) but their own (on_pattern_interest).
    bool subscribe_pattern(channel& ch, std::string_view pattern);
    /// Returns false when `ch` was not subscribed to `pattern`.
    bool unsubscribe_pattern(channel& ch, std::string_view pattern);
    bool subscribed_pattern(channel const& ch, std::string_view pattern) const;
    /// Distinct patterns with local subscribers.
    std::size_t pattern_count() const noexcept;

    /// Hands `m` to every channel subscribed to its topic or to a pattern matching it, once each however many
    /// of its subscriptions match (in no promised order across channels; each channel sees a topic's messages
    /// in publish order). Channels that close during the fan-out are skipped from then on; channels that
    /// subscribe during it do not get `m`. With no pattern subscribed on this node, the cost is the topic's
    /// alone (one test more); with some, one walk of the pattern trie per message.
    void deliver(message_ptr const& m);

    /// Hands a presence event to every channel subscribed to its topic and present in it (channel::present_in),
    /// once each; patterns bring no presence. A delivery from inside a fan-out runs after it, as deliver()'s do.
    void deliver_presence(presence_event_ptr const& e);
    /// How many channels the topic's last presence fan-out reached (0 before its first, or with no subscriber):
    /// what one more event costs there, read without walking the subscribers (presence_relay).
    std::size_t presence_listeners(std::string const& topic) const;

    std::size_t subscriber_count(std::string_view topic) const;
    /// The channels subscribed to `topic` now (a copy: closing them changes the hub).
    std::vector<channel_ptr> subscribers(std::string_view topic) const;
    /// The channels subscribed to a pattern that `topic` matches, now (a copy; a channel may be in both lists).
    std::vector<channel_ptr> pattern_subscribers(std::string_view topic) const;
    /// The channels subscribed to `pattern` itself now (a copy).
    std::vector<channel_ptr> subscribers_of_pattern(std::string_view pattern) const;
    std::size_t topic_count() const noexcept { return topics_.size(); }
    /// Calls `f(topic, subscriber_count)` for every topic with local subscribers.
    template <class F>
    void for_each_topic(F&& f) const
    {
        for (auto const& [name, t] : topics_)
            f(std::string_view(name), live_count(*t));
    }

    /// Subscriptions of all channels on all topics.
    std::size_t subscription_count() const noexcept { return subscriptions_; }
    /// Subscriptions of all channels to patterns.
    std::size_t pattern_subscription_count() const noexcept { return pattern_subscriptions_; }
    /// Messages fanned out, and deliveries made (one per subscribed channel), since the hub was made.
    std::uint64_t messages_delivered() const noexcept { return messages_; }
    std::uint64_t deliveries() const noexcept { return deliveries_; }
    /// Of those deliveries, the ones made through a pattern (the channel held no subscription to the topic).
    std::uint64_t pattern_deliveries() const noexcept { return pattern_deliveries_; }
    /// Presence events of kind `k` this hub was given (each counted once, whether a channel here wanted it), and
    /// their deliveries (one per present channel handed the event), since the hub was made.
    std::uint64_t presence_events(presence_event::kind k) const noexcept { return presence_events_[index(k)]; }
    std::uint64_t presence_deliveries(presence_event::kind k) const noexcept
    {
        return presence_deliveries_[index(k)];
    }

private:
    // A channel's subscription to a topic, in the index of channels with many subscriptions.
    struct subscription_key {
        channel const* ch;
        detail::hub_topic const* topic;
        friend bool operator==(subscription_key const&, subscription_key const&) = default;
    };
    struct subscription_key_hash {
        std::size_t operator()(subscription_key const& k) const noexcept;
    };
    // A channel's subscriptions are searched (a few pointers, nothing held per subscription) until it has more
    // than `index_above`; from then on they are looked up in `indexed_`, until it is back to `search_from`
    // (apart, so that a channel going back and forth around one size does not rebuild its index each time).
    // Every call stays O(1) however many topics one channel has.
    static constexpr std::size_t index_above = 16;
    static constexpr std::size_t search_from = 8;

    static std::size_t live_count(detail::hub_topic const& t) noexcept;
    /// Where `ch`'s subscription to `t` (or to the topic named `topic`) sits in ch.subscriptions_, or npos.
    std::size_t find(channel const& ch, detail::hub_topic const& t) const noexcept;
    std::size_t find(channel const& ch, std::string_view topic) const noexcept;
    void attach(channel& ch, detail::hub_topic& t);
    /// Removes the entry at `pos` of ch.subscriptions_ (the last takes its place) and returns it.
    channel::subscription detach(channel& ch, std::size_t pos);
    void forget_index(channel& ch);
    void fan_out(message const& msg, message_ptr const& m);
    void fan_out_presence(presence_event_ptr const& e);
    void run_deferred();
    void remove_at(detail::hub_topic& t, std::size_t index);
    /// `t.subscribers[index]` has just moved there: its channel's record follows.
    void moved(detail::hub_topic& t, std::size_t index);
    void compact(detail::hub_topic& t);
    void forget_if_empty(detail::hub_topic& t);
    void fan_out_with_patterns(message const& msg, message_ptr const& m);
    std::size_t find_pattern(channel const& ch, detail::pattern_node const& n) const noexcept;
    void remove_pattern_at(detail::pattern_node& n, std::size_t index);
    void compact(detail::pattern_node& n);

    std::unordered_map<std::string, std::unique_ptr<detail::hub_topic>, detail::string_hash, std::equal_to<>> topics_;
    std::unordered_map<subscription_key, std::size_t, subscription_key_hash> indexed_;
    std::size_t subscriptions_ = 0;
    std::unique_ptr<detail::pattern_trie> patterns_;
    std::size_t pattern_subscriptions_ = 0;
    std::uint64_t stamp_ = 0;                        // numbers the fan-outs that check for duplicates
    std::vector<detail::pattern_node*> matched_;     // the patterns a fan-out walks (its scratch space)
    std::vector<std::size_t> pattern_sizes_;         // their subscribers when it started
    std::vector<std::string> prune_;                 // patterns left empty by a fan-out
    std::uint64_t messages_ = 0;
    std::uint64_t deliveries_ = 0;
    std::uint64_t pattern_deliveries_ = 0;
    static constexpr std::size_t index(presence_event::kind k) noexcept
    {
        return static_cast<std::size_t>(k);
    }
    std::array<std::uint64_t, presence_event::kinds> presence_events_{};
    std::array<std::uint64_t, presence_event::kinds> presence_deliveries_{};
    std::vector<message_ptr> deferred_;
    std::vector<presence_event_ptr> deferred_presence_;
    std::vector<channel_ptr> leaving_;  // channels that left mid-fan-out, released once it is over
    bool delivering_ = false;
    interest_handler first_subscriber_;
    interest_handler last_unsubscriber_;
    interest_handler first_pattern_subscriber_;
    interest_handler last_pattern_unsubscriber_;
};

}  // namespace switchboard
