#include <switchboard/hub.hpp>

#include "hub_topic.hpp"

#include <algorithm>

namespace switchboard {

hub::hub() = default;
hub::~hub() = default;

void hub::on_interest(interest_handler first_subscriber, interest_handler last_unsubscriber)
{
    first_subscriber_ = std::move(first_subscriber);
    last_unsubscriber_ = std::move(last_unsubscriber);
}

bool hub::subscribe(channel& ch, std::string const& topic)
{
    if (subscribed(ch, topic))
        return false;
    auto self = ch.shared_from_this();  // first: it throws for a channel no shared_ptr owns
    auto it = topics_.find(topic);
    bool const first = it == topics_.end();
    if (first) {
        auto t = std::make_unique<detail::hub_topic>();
        t->name = topic;
        it = topics_.emplace(topic, std::move(t)).first;
    }
    auto& t = *it->second;
    ch.subscriptions_.push_back({&t, t.subscribers.size()});
    t.subscribers.push_back(std::move(self));
    ++t.live;
    ++subscriptions_;
    if (first && first_subscriber_)
        first_subscriber_(topic);
    return true;
}

bool hub::subscribed(channel const& ch, std::string_view topic) const
{
    return std::any_of(ch.subscriptions_.begin(), ch.subscriptions_.end(),
                       [&](channel::subscription const& s) { return s.topic->name == topic; });
}

bool hub::unsubscribe(channel& ch, std::string_view topic)
{
    auto& subs = ch.subscriptions_;
    auto it = std::find_if(subs.begin(), subs.end(), [&](channel::subscription const& s) { return s.topic->name == topic; });
    if (it == subs.end())
        return false;
    auto const sub = *it;
    *it = subs.back();
    subs.pop_back();
    remove_at(*sub.topic, sub.index);
    return true;
}

void hub::unsubscribe_all(channel& ch)
{
    auto subs = std::move(ch.subscriptions_);
    ch.subscriptions_.clear();
    for (auto const& sub : subs)
        remove_at(*sub.topic, sub.index);
}

void hub::remove_at(detail::hub_topic& t, std::size_t index)
{
    --t.live;
    --subscriptions_;
    if (t.delivering) {
        // The fan-out loop is walking this vector: leave a hole, compact() closes it afterwards. The channel
        // may be inside its own deliver() right now, so it is kept alive until the fan-out ends.
        leaving_.push_back(std::move(t.subscribers[index]));
        return;
    }
    auto& subs = t.subscribers;
    if (index + 1 != subs.size()) {
        subs[index] = std::move(subs.back());
        for (auto& s : subs[index]->subscriptions_)
            if (s.topic == &t) {
                s.index = index;
                break;
            }
    }
    subs.pop_back();
    forget_if_empty(t);
}

void hub::compact(detail::hub_topic& t)
{
    auto& subs = t.subscribers;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < subs.size(); ++i) {
        if (!subs[i])
            continue;
        if (kept != i) {
            subs[kept] = std::move(subs[i]);
            for (auto& s : subs[kept]->subscriptions_)
                if (s.topic == &t) {
                    s.index = kept;
                    break;
                }
        }
        ++kept;
    }
    subs.resize(kept);
}

void hub::forget_if_empty(detail::hub_topic& t)
{
    if (t.live != 0 || t.delivering)
        return;
    std::string const name = t.name;
    topics_.erase(name);  // destroys t
    if (last_unsubscriber_)
        last_unsubscriber_(name);
}

void hub::deliver(message_ptr const& m)
{
    if (delivering_) {
        // A delivery from inside a delivery (a disconnect hook that publishes, say): run it after the current
        // one so that every channel still sees messages in publish order.
        deferred_.push_back(m);
        return;
    }
    delivering_ = true;
    fan_out(*m, m);
    for (std::size_t i = 0; i < deferred_.size(); ++i) {
        auto next = std::move(deferred_[i]);
        fan_out(*next, next);
    }
    deferred_.clear();
    delivering_ = false;
    leaving_.clear();
}

void hub::fan_out(message const& msg, message_ptr const& m)
{
    auto it = topics_.find(msg.topic());
    if (it == topics_.end())
        return;
    auto& t = *it->second;
    t.delivering = true;
    ++messages_;
    // Index-based: subscribe() may append (and reallocate) while we walk; only entries present at the start get m.
    std::size_t const n = t.subscribers.size();
    for (std::size_t i = 0; i < n; ++i) {
        channel* ch = t.subscribers[i].get();
        if (ch && !ch->closing()) {
            ch->deliver(m);
            ++deliveries_;
        }
    }
    t.delivering = false;
    if (t.live != t.subscribers.size())
        compact(t);
    forget_if_empty(t);
}

std::size_t hub::live_count(detail::hub_topic const& t) noexcept
{
    return t.live;
}

std::size_t hub::subscriber_count(std::string_view topic) const
{
    auto it = topics_.find(topic);
    return it == topics_.end() ? 0 : it->second->live;
}

std::vector<channel_ptr> hub::subscribers(std::string_view topic) const
{
    std::vector<channel_ptr> out;
    if (auto it = topics_.find(topic); it != topics_.end())
        for (auto const& ch : it->second->subscribers)
            if (ch)
                out.push_back(ch);
    return out;
}

}  // namespace switchboard
