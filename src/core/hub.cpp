#include <switchboard/hub.hpp>

#include "core/hub_topic.hpp"
#include "core/pattern_trie.hpp"

#include <cstdint>
#include <functional>

namespace switchboard {

hub::hub() : patterns_(std::make_unique<detail::pattern_trie>()) {}
hub::~hub() = default;

void hub::on_interest(interest_handler first_subscriber, interest_handler last_unsubscriber)
{
    first_subscriber_ = std::move(first_subscriber);
    last_unsubscriber_ = std::move(last_unsubscriber);
}

void hub::on_pattern_interest(interest_handler first_subscriber, interest_handler last_unsubscriber)
{
    first_pattern_subscriber_ = std::move(first_subscriber);
    last_pattern_unsubscriber_ = std::move(last_unsubscriber);
}

namespace {
constexpr std::size_t npos = static_cast<std::size_t>(-1);
}

std::size_t hub::subscription_key_hash::operator()(subscription_key const& k) const noexcept
{
    auto const a = reinterpret_cast<std::uintptr_t>(k.ch);
    auto const b = reinterpret_cast<std::uintptr_t>(k.topic);
    // Both are heap addresses: multiply one by an odd constant so that the pair's bits mix.
    return std::hash<std::uintptr_t>{}(a * 0x9e3779b97f4a7c15ULL ^ b);
}

std::size_t hub::find(channel const& ch, detail::hub_topic const& t) const noexcept
{
    auto const& subs = ch.subscriptions_;
    if (ch.indexed_) {
        auto const it = indexed_.find({&ch, &t});
        return it == indexed_.end() ? npos : it->second;
    }
    for (std::size_t i = 0; i < subs.size(); ++i)
        if (subs[i].topic == &t)
            return i;
    return npos;
}

bool hub::subscribe(channel& ch, std::string const& topic)
{
    auto it = topics_.find(topic);
    if (it != topics_.end() && find(ch, *it->second) != npos)
        return false;
    auto self = ch.shared_from_this();  // before any change: it throws for a channel no shared_ptr owns
    bool const first = it == topics_.end();
    if (first) {
        auto t = std::make_unique<detail::hub_topic>();
        t->name = topic;
        it = topics_.emplace(topic, std::move(t)).first;
    }
    auto& t = *it->second;
    attach(ch, t);
    t.subscribers.push_back(std::move(self));
    ++t.live;
    ++subscriptions_;
    if (first && first_subscriber_)
        first_subscriber_(topic);
    return true;
}

void hub::attach(channel& ch, detail::hub_topic& t)
{
    auto& subs = ch.subscriptions_;
    subs.push_back({&t, t.subscribers.size()});
    if (ch.indexed_) {
        indexed_.emplace(subscription_key{&ch, &t}, subs.size() - 1);
    } else if (subs.size() > index_above) {
        // Past the size worth searching: from now on this channel's subscriptions are looked up in the index.
        for (std::size_t i = 0; i < subs.size(); ++i)
            indexed_.emplace(subscription_key{&ch, subs[i].topic}, i);
        ch.indexed_ = true;
    }
}

channel::subscription hub::detach(channel& ch, std::size_t pos)
{
    auto& subs = ch.subscriptions_;
    auto const sub = subs[pos];
    if (ch.indexed_)
        indexed_.erase({&ch, sub.topic});
    if (pos + 1 != subs.size()) {
        subs[pos] = subs.back();
        if (ch.indexed_)
            indexed_[{&ch, subs[pos].topic}] = pos;
    }
    subs.pop_back();
    if (ch.indexed_ && subs.size() <= search_from)
        forget_index(ch);  // small enough to be searched again
    return sub;
}

void hub::forget_index(channel& ch)
{
    for (auto const& s : ch.subscriptions_)
        indexed_.erase({&ch, s.topic});
    ch.indexed_ = false;
    if (indexed_.empty())
        indexed_ = {};  // give its buckets back: one channel's burst of subscriptions must not stay held
}

std::size_t hub::find(channel const& ch, std::string_view topic) const noexcept
{
    if (ch.indexed_) {
        auto const it = topics_.find(topic);
        return it == topics_.end() ? npos : find(ch, *it->second);
    }
    // A few entries: comparing their names costs less than hashing the topic's.
    auto const& subs = ch.subscriptions_;
    for (std::size_t i = 0; i < subs.size(); ++i)
        if (subs[i].topic->name == topic)
            return i;
    return npos;
}

bool hub::subscribed(channel const& ch, std::string_view topic) const
{
    return find(ch, topic) != npos;
}

bool hub::unsubscribe(channel& ch, std::string_view topic)
{
    auto const pos = find(ch, topic);
    if (pos == npos)
        return false;
    auto const sub = detach(ch, pos);
    remove_at(*sub.topic, sub.index);
    return true;
}

void hub::unsubscribe_all(channel& ch)
{
    if (!ch.pattern_subscriptions().empty()) {
        auto subs = std::move(ch.seldom_->pattern_subscriptions);
        ch.seldom_->pattern_subscriptions.clear();
        for (auto const& sub : subs)
            remove_pattern_at(*sub.node, sub.index);
    }
    if (ch.indexed_)
        forget_index(ch);
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
        moved(t, index);
    }
    subs.pop_back();
    forget_if_empty(t);
}

void hub::moved(detail::hub_topic& t, std::size_t index)
{
    auto& ch = *t.subscribers[index];
    // npos only for a channel inside unsubscribe_all(), whose records are already gone.
    if (auto const pos = find(ch, t); pos != npos)
        ch.subscriptions_[pos].index = index;
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
            moved(t, kept);
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
    if (pattern_subscriptions_ == 0)
        fan_out(*m, m);
    else
        fan_out_with_patterns(*m, m);
    run_deferred();
}

void hub::run_deferred()
{
    // Messages first, then presence events: each kind keeps its own order (a presence event promises no order
    // against messages, docs/guarantees.md). Either may add to the other while it runs.
    while (!deferred_.empty() || !deferred_presence_.empty()) {
        for (std::size_t i = 0; i < deferred_.size(); ++i) {
            auto next = std::move(deferred_[i]);
            if (pattern_subscriptions_ == 0)
                fan_out(*next, next);
            else
                fan_out_with_patterns(*next, next);
        }
        deferred_.clear();
        for (std::size_t i = 0; i < deferred_presence_.size(); ++i) {
            auto next = std::move(deferred_presence_[i]);
            fan_out_presence(next);
        }
        deferred_presence_.clear();
    }
    delivering_ = false;
    leaving_.clear();
}

void hub::deliver_presence(presence_event_ptr const& e)
{
    ++presence_events_[index(e->type())];
    if (delivering_) {
        deferred_presence_.push_back(e);
        return;
    }
    delivering_ = true;
    fan_out_presence(e);
    run_deferred();
}

std::size_t hub::presence_listeners(std::string const& topic) const
{
    auto it = topics_.find(topic);
    return it == topics_.end() ? 0 : it->second->presence_listeners;
}

void hub::fan_out_presence(presence_event_ptr const& e)
{
    auto it = topics_.find(e->topic());
    if (it == topics_.end())
        return;
    auto& t = *it->second;
    t.delivering = true;
    std::size_t const n = t.subscribers.size();
    std::size_t reached = 0;
    for (std::size_t i = 0; i < n; ++i) {
        channel* ch = t.subscribers[i].get();
        if (!ch || ch->closing() || !ch->present_in(e->topic()))
            continue;
        ++reached;
        // Never a member's own event: over Redis a join's event may arrive after the member's channel was
        // told it joined (the event comes on the pub/sub connection, the answer on another). A diff or counts
        // names no member: every listener gets it.
        if (ch->presence_client() != e->member().client) {
            (void)ch->deliver_presence(e);
            ++presence_deliveries_[index(e->type())];
        }
    }
    t.presence_listeners = reached;
    t.delivering = false;
    if (t.live != t.subscribers.size())
        compact(t);
    forget_if_empty(t);
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
            // The status is the channel's business: one that cannot take m has closed itself and told its client.
            (void)ch->deliver(m);
            ++deliveries_;
        }
    }
    t.delivering = false;
    if (t.live != t.subscribers.size())
        compact(t);
    forget_if_empty(t);
}

bool hub::subscribe_pattern(channel& ch, std::string_view pattern)
{
    auto* existing = patterns_->find(pattern);
    if (existing && find_pattern(ch, *existing) != npos)
        return false;
    auto self = ch.shared_from_this();  // before any change: it throws for a channel no shared_ptr owns
    auto& n = existing ? *existing : patterns_->insert(pattern);
    ch.seldom().pattern_subscriptions.push_back({&n, n.subscribers.size()});
    n.subscribers.push_back(std::move(self));
    // A node may outlive its last subscriber while a fan-out walks it: interest follows live, not the node.
    bool const first = n.live++ == 0;
    ++pattern_subscriptions_;
    if (first && first_pattern_subscriber_)
        first_pattern_subscriber_(n.pattern);
    return true;
}

std::size_t hub::find_pattern(channel const& ch, detail::pattern_node const& n) const noexcept
{
    auto const& subs = ch.pattern_subscriptions();
    for (std::size_t i = 0; i < subs.size(); ++i)
        if (subs[i].node == &n)
            return i;
    return npos;
}

bool hub::subscribed_pattern(channel const& ch, std::string_view pattern) const
{
    auto* n = patterns_->find(pattern);
    return n && find_pattern(ch, *n) != npos;
}

bool hub::unsubscribe_pattern(channel& ch, std::string_view pattern)
{
    auto* n = patterns_->find(pattern);
    if (!n)
        return false;
    auto const pos = find_pattern(ch, *n);
    if (pos == npos)
        return false;
    auto& subs = ch.seldom_->pattern_subscriptions;  // pos found one: it is there
    auto const index = subs[pos].index;
    subs[pos] = subs.back();
    subs.pop_back();
    remove_pattern_at(*n, index);
    return true;
}

std::size_t hub::pattern_count() const noexcept
{
    return patterns_->size();
}

void hub::remove_pattern_at(detail::pattern_node& n, std::size_t index)
{
    --n.live;
    --pattern_subscriptions_;
    if (n.live == 0 && last_pattern_unsubscriber_)
        last_pattern_unsubscriber_(std::string(n.pattern));  // a copy: n may go before the handler is done
    if (n.delivering) {
        // As remove_at: the fan-out is walking this node; compacted, and pruned, once it is over.
        leaving_.push_back(std::move(n.subscribers[index]));
        return;
    }
    auto& subs = n.subscribers;
    if (index + 1 != subs.size()) {
        subs[index] = std::move(subs.back());
        auto& moved_ch = *subs[index];
        // npos only for a channel inside unsubscribe_all(), whose records are already gone.
        if (auto const pos = find_pattern(moved_ch, n); pos != npos)
            moved_ch.seldom_->pattern_subscriptions[pos].index = index;
    }
    subs.pop_back();
    if (n.live == 0)
        patterns_->prune(n);
}

void hub::compact(detail::pattern_node& n)
{
    auto& subs = n.subscribers;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < subs.size(); ++i) {
        if (!subs[i])
            continue;
        if (kept != i) {
            subs[kept] = std::move(subs[i]);
            if (auto const pos = find_pattern(*subs[kept], n); pos != npos)
                subs[kept]->seldom_->pattern_subscriptions[pos].index = kept;
        }
        ++kept;
    }
    subs.resize(kept);
}

void hub::fan_out_with_patterns(message const& msg, message_ptr const& m)
{
    // Every channel with patterns reached is stamped with this fan-out's number: one reached before (subscribed
    // to the topic and to a matching pattern, or to several matching patterns) is skipped. A channel without
    // patterns is reached once, through its topic.
    auto const stamp = ++stamp_;
    auto const hand = [&](channel* ch) {
        if (!ch || ch->closing())
            return false;
        if (auto* const s = ch->seldom_.get()) {
            if (s->delivered_stamp == stamp)
                return false;
            s->delivered_stamp = stamp;
        }
        (void)ch->deliver(m);
        ++deliveries_;
        return true;
    };
    auto it = topics_.find(msg.topic());
    detail::hub_topic* t = it == topics_.end() ? nullptr : it->second.get();
    matched_.clear();
    patterns_->match(msg.topic(), [this](detail::pattern_node& n) {
        if (n.live != 0)
            matched_.push_back(&n);
    });
    if (!t && matched_.empty())
        return;
    ++messages_;
    // Sizes first: subscribe() may append (and reallocate) while we walk; only entries present now get m.
    std::size_t const topic_n = t ? t->subscribers.size() : 0;
    std::size_t const walk_n = matched_.size();
    if (t)
        t->delivering = true;
    for (std::size_t j = 0; j < walk_n; ++j)
        matched_[j]->delivering = true;
    auto& sizes = pattern_sizes_;
    sizes.clear();
    for (std::size_t j = 0; j < walk_n; ++j)
        sizes.push_back(matched_[j]->subscribers.size());
    for (std::size_t i = 0; i < topic_n; ++i)
        hand(t->subscribers[i].get());
    for (std::size_t j = 0; j < walk_n; ++j) {
        auto& n = *matched_[j];
        for (std::size_t i = 0; i < sizes[j]; ++i)
            pattern_deliveries_ += hand(n.subscribers[i].get());
    }
    for (std::size_t j = 0; j < walk_n; ++j) {
        auto& n = *matched_[j];
        n.delivering = false;
        if (n.live != n.subscribers.size())
            compact(n);
        if (n.live == 0)
            prune_.push_back(n.pattern);
    }
    // Pruned by name once every node is done with: pruning one may remove another's ancestors.
    for (auto const& p : prune_)
        if (auto* n = patterns_->find(p))
            patterns_->prune(*n);
    prune_.clear();
    matched_.clear();
    if (t) {
        t->delivering = false;
        if (t->live != t->subscribers.size())
            compact(*t);
        forget_if_empty(*t);
    }
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

std::vector<channel_ptr> hub::pattern_subscribers(std::string_view topic) const
{
    std::vector<channel_ptr> out;
    patterns_->match(topic, [&out](detail::pattern_node& n) {
        for (auto const& ch : n.subscribers)
            if (ch)
                out.push_back(ch);
    });
    return out;
}

std::vector<channel_ptr> hub::subscribers_of_pattern(std::string_view pattern) const
{
    std::vector<channel_ptr> out;
    if (auto* n = patterns_->find(pattern))
        for (auto const& ch : n->subscribers)
            if (ch)
                out.push_back(ch);
    return out;
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
