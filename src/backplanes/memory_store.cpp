#include "backplanes/memory_store.hpp"

#include <switchboard/error.hpp>

#include <switchboard/topic.hpp>

#include "core/epoch.hpp"

#include <algorithm>

namespace switchboard::detail {

namespace {

// What a message costs beyond its envelope: the message itself, its topic and epoch, the shared envelope's
// control block, the history's slot.
constexpr std::size_t message_bookkeeping = 256;

}  // namespace

memory_store::memory_store(history_options options) : options_(std::move(options)), random_(std::random_device{}())
{
    sequence_epoch_ = random_epoch(random_);
}

std::size_t memory_store::cost(message const& m) noexcept
{
    return m.envelope()->size() + message_bookkeeping;
}

memory_store::entry* memory_store::find(std::string_view topic)
{
    auto it = topics_.find(topic);
    return it == topics_.end() ? nullptr : &*it;
}

memory_store::entry* memory_store::find_or_create(std::string const& topic, std::string_view client)
{
    if (auto* e = find(topic))
        return e;
    if (!make_room_for(client))
        return nullptr;
    auto& e = *topics_.try_emplace(topic).first;
    e.second.epoch = random_epoch(random_);
    e.second.limits = &options_.limits_for(topic);
    if (!client.empty()) {
        auto& owner = *clients_.try_emplace(std::string(client)).first;
        ++owner.second.count;
        e.second.owner = &owner;
    }
    return &e;
}

bool memory_store::make_room_for(std::string_view client)
{
    // An idle topic holds only a position: it gives its room to a topic in use, the client's own first.
    if (!client.empty() && options_.max_topics_per_client > 0) {
        auto it = clients_.find(client);
        if (it != clients_.end() && it->second.count >= options_.max_topics_per_client) {
            if (it->second.idle.empty())
                return false;
            drop(*it->second.idle.front());
        }
    }
    if (topics_.size() >= options_.max_topics) {
        if (idle_.empty())
            return false;
        drop(*idle_.front());
    }
    return true;
}

void memory_store::drop(entry& e)
{
    auto& t = e.second;
    while (!t.history.empty())
        pop_oldest(e);
    if (t.idle) {
        idle_.erase(t.idle_at);
        if (t.owner)
            t.owner->second.idle.erase(t.owner_idle_at);
    }
    if (t.owner && --t.owner->second.count == 0)
        clients_.erase(clients_.find(t.owner->first));
    if (t.last_sequence != 0) {
        active_.erase(t.active_at);
        forget(e);
    }
    topics_.erase(topics_.find(e.first));
}

void memory_store::forget(entry const& e)
{
    // Its messages are gone with it (a topic is dropped once its history is empty): a pattern resume from
    // before its last one must say so, by name while remembered, then as lost from topics nobody can name.
    forgotten_.push_back({e.first, e.second.last_sequence});
    if (forgotten_.size() > options_.max_topics) {
        forgotten_past_ = std::max(forgotten_past_, forgotten_.front().last_sequence);
        forgotten_.pop_front();
    }
}

void memory_store::append(entry& e, message_ptr const& m)
{
    auto& t = e.second;
    if (t.history.empty()) {
        t.aged = m->published_at();
        by_age_.emplace(*t.aged, &e);
    }
    t.history.push_back(m);
    history_bytes_ += cost(*m);
}

void memory_store::pop_oldest(entry& e)
{
    auto& t = e.second;
    history_bytes_ -= cost(*t.history.front());
    t.dropped_sequence = t.history.front()->sequence();
    t.history.pop_front();
    // The topic's key in by_age_ may now be older than its oldest message; evict_past_max_bytes() corrects it
    // when it matters, so that trimming costs no reordering on every publish.
    if (t.history.empty()) {
        by_age_.erase({*t.aged, &e});
        t.aged.reset();
    }
}

void memory_store::prune(entry& e, clock::time_point now)
{
    auto& t = e.second;
    while (t.history.size() > t.limits->max_messages)
        pop_oldest(e);
    while (!t.history.empty() && now - t.history.front()->published_at() > t.limits->max_age)
        pop_oldest(e);
}

void memory_store::evict_past_max_bytes()
{
    // The oldest message of all topics goes first: the topic first in by_age_, once its key is its oldest
    // message's time (a key may lag behind after trimming).
    while (history_bytes_ > options_.max_bytes && !by_age_.empty()) {
        auto const first = by_age_.begin();
        entry& e = *first->second;
        auto const oldest = e.second.history.front()->published_at();
        if (first->first != oldest) {
            auto node = by_age_.extract(first);
            node.value().first = oldest;
            e.second.aged = oldest;
            by_age_.insert(std::move(node));
            continue;
        }
        pop_oldest(e);
        settle(e);
    }
}

void memory_store::settle(entry& e)
{
    auto& t = e.second;
    bool const idle = t.subscribers == 0 && t.history.empty();
    if (idle == t.idle)
        return;
    t.idle = idle;
    if (idle) {
        t.idle_at = idle_.insert(idle_.end(), &e);
        if (t.owner)
            t.owner_idle_at = t.owner->second.idle.insert(t.owner->second.idle.end(), &e);
    } else {
        idle_.erase(t.idle_at);
        if (t.owner)
            t.owner->second.idle.erase(t.owner_idle_at);
    }
}

void memory_store::expire_idempotency_keys(clock::time_point now)
{
    while (!idempotency_order_.empty() &&
           (idempotency_order_.size() > options_.max_idempotency_keys ||
            now - idempotency_order_.front()->second.recorded >= options_.idempotency_window)) {
        idempotency_.erase(idempotency_.find(idempotency_order_.front()->first));
        idempotency_order_.pop_front();
    }
}

memory_store::publish_answer memory_store::publish(std::string topic, std::string data, std::string_view client,
                                                   std::string_view idempotency_key)
{
    std::string key;
    if (!idempotency_key.empty() && options_.idempotency_window.count() > 0 && options_.max_idempotency_keys > 0) {
        expire_idempotency_keys(clock::now());
        key.reserve(topic.size() + 1 + idempotency_key.size());
        key.append(topic).append(1, ' ').append(idempotency_key);
        if (auto it = idempotency_.find(key); it != idempotency_.end())
            return {{}, nullptr, it->second.where};
    }
    auto* e = find_or_create(topic, client);
    if (!e)
        return {error::too_many_topics, nullptr, {}};
    auto& t = e->second;
    position const where{t.offset + 1, t.epoch};
    auto m = std::make_shared<message const>(std::move(topic), where, data, ++sequence_);
    t.offset = where.offset;
    if (t.last_sequence == 0)
        t.active_at = active_.insert(active_.end(), e);
    else
        active_.splice(active_.end(), active_, t.active_at);
    t.last_sequence = sequence_;
    if (t.limits->max_messages > 0) {
        append(*e, m);
        prune(*e, m->published_at());
    } else {
        t.dropped_sequence = sequence_;  // never kept
    }
    settle(*e);
    evict_past_max_bytes();
    if (!key.empty()) {
        auto& recorded = *idempotency_.try_emplace(std::move(key), idempotency_record{where, clock::now()}).first;
        idempotency_order_.push_back(&recorded);
        expire_idempotency_keys(recorded.second.recorded);  // past max_idempotency_keys: the oldest goes
    }
    return {{}, std::move(m), where};
}

memory_store::history_answer memory_store::history(std::string const& topic, std::optional<position> const& since,
                                                   std::size_t max_bytes, std::string_view client)
{
    auto* e = find_or_create(topic, client);
    if (!e)
        return {error::too_many_topics, {}};
    prune(*e, clock::now());
    settle(*e);
    auto const& t = e->second;
    history_result result;
    result.latest = {t.offset, t.epoch};
    if (!since) {
        return {{}, std::move(result)};
    }
    // An empty epoch asks for everything retained, from whichever epoch is current.
    bool const same_epoch = since->epoch.empty() ? since->offset == 0 : since->epoch == t.epoch;
    if (!same_epoch || since->offset > t.offset) {
        result.recovered = false;
        return {{}, std::move(result)};
    }
    std::uint64_t const first_kept = t.history.empty() ? t.offset + 1 : t.history.front()->offset();
    result.recovered = first_kept <= since->offset + 1;
    auto const from = std::lower_bound(t.history.begin(), t.history.end(), since->offset + 1,
                                       [](message_ptr const& m, std::uint64_t off) { return m->offset() < off; });
    auto to = from;
    for (std::size_t bytes = 0; to != t.history.end(); ++to) {
        bytes += (*to)->envelope()->size();
        if (to != from && bytes > max_bytes)
            break;
    }
    result.messages.assign(from, to);
    return {{}, std::move(result)};
}

memory_store::pattern_history_answer memory_store::pattern_history(std::string const& pattern,
                                                                   std::optional<position> const& since,
                                                                   std::size_t max_bytes, std::size_t max_topics)
{
    pattern_history_result result;
    result.latest = {sequence_, sequence_epoch_};
    if (!since) {
        return {{}, std::move(result)};
    }
    bool const same_epoch = since->epoch.empty() ? since->offset == 0 : since->epoch == sequence_epoch_;
    if (!same_epoch || since->offset > sequence_) {
        result.recovered = false;
        return {{}, std::move(result)};
    }
    auto const after = since->offset;
    // The topics published since `after`, newest first: the cost is theirs, not every topic's.
    std::vector<entry*> matched;
    auto const now = clock::now();
    for (auto it = active_.rbegin(); it != active_.rend() && (*it)->second.last_sequence > after; ++it) {
        if (!pattern_matches(pattern, (*it)->first))
            continue;
        if (matched.size() == max_topics) {
            return {error::too_many_topics, {}};
        }
        matched.push_back(*it);
    }
    result.recovered = forgotten_past_ <= after;
    auto const name_lost = [&](std::string const& topic) {
        if (result.lost.size() < max_topics)
            result.lost.push_back(topic);
        result.recovered = false;
    };
    for (auto const& f : forgotten_)
        if (f.last_sequence > after && pattern_matches(pattern, f.name))
            name_lost(f.name);

    // Each topic's messages after `after` are in sequence order: merged oldest first, while the page has room.
    using cursor = std::pair<std::deque<message_ptr>::const_iterator, std::deque<message_ptr>::const_iterator>;
    std::vector<cursor> heads;
    for (auto* e : matched) {
        prune(*e, now);  // age first: what expired is gone
        auto const& t = e->second;
        if (t.dropped_sequence > after)
            name_lost(e->first);
        auto from = std::lower_bound(t.history.begin(), t.history.end(), after + 1,
                                     [](message_ptr const& m, std::uint64_t s) { return m->sequence() < s; });
        if (from != t.history.end())
            heads.emplace_back(from, t.history.end());
    }
    auto const later = [](cursor const& a, cursor const& b) { return (*a.first)->sequence() > (*b.first)->sequence(); };
    std::make_heap(heads.begin(), heads.end(), later);
    for (std::size_t bytes = 0; !heads.empty();) {
        std::pop_heap(heads.begin(), heads.end(), later);
        auto& head = heads.back();
        bytes += (*head.first)->envelope()->size();
        if (!result.messages.empty() && bytes > max_bytes) {
            result.more = true;
            break;
        }
        result.messages.push_back(*head.first);
        if (++head.first == head.second)
            heads.pop_back();
        else
            std::push_heap(heads.begin(), heads.end(), later);
    }
    for (auto* e : matched)
        settle(*e);
    return {{}, std::move(result)};
}

void memory_store::set_options(history_options options)
{
    options_ = std::move(options);
    auto const now = clock::now();
    for (auto& e : topics_) {
        e.second.limits = &options_.limits_for(e.first);  // the old rules are gone: re-point every topic
        prune(e, now);
        settle(e);
    }
    evict_past_max_bytes();
    expire_idempotency_keys(now);  // a shorter window or a smaller bound applies at once
}

bool memory_store::subscribe(std::string const& topic, std::string_view client)
{
    // A topic no bound lets this client take on stays unknown: the subscription's history read then fails
    // with too_many_topics, and the subscription with it.
    auto* e = find_or_create(topic, client);
    if (!e)
        return false;
    ++e->second.subscribers;
    settle(*e);
    return true;
}

void memory_store::unsubscribe(std::string const& topic)
{
    if (auto* e = find(topic); e && e->second.subscribers > 0) {
        --e->second.subscribers;
        settle(*e);
    }
}

std::optional<position> memory_store::position_of(std::string_view topic) const
{
    if (auto it = topics_.find(topic); it != topics_.end())
        return position{it->second.offset, it->second.epoch};
    return std::nullopt;
}

void memory_store::sweep()
{
    // A topic whose history has expired and that nobody here listens to holds nothing worth keeping; dropping it
    // starts a new epoch if it is used again, which resuming clients see as recovered:false (correctly: what
    // they missed is gone).
    auto const now = clock::now();
    for (auto& e : topics_) {
        prune(e, now);
        settle(e);
    }
    while (!idle_.empty())
        drop(*idle_.front());
    expire_idempotency_keys(now);
}

}  // namespace switchboard::detail
