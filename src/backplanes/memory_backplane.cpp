#include <switchboard/error.hpp>
#include <switchboard/memory_backplane.hpp>

#include "core/epoch.hpp"

#include <algorithm>

namespace switchboard {

memory_backplane::memory_backplane(boost::asio::any_io_executor ex, history_options options)
    : options_(std::move(options)), sweep_timer_(std::move(ex)), random_(std::random_device{}())
{
    schedule_sweep();
}

memory_backplane::~memory_backplane() = default;

memory_backplane::topic_state* memory_backplane::find_or_create(std::string const& topic)
{
    if (auto it = topics_.find(topic); it != topics_.end())
        return &it->second;
    if (topics_.size() >= options_.max_topics)
        return nullptr;
    auto& t = topics_[topic];
    t.epoch = detail::random_epoch(random_);
    t.limits = &options_.limits_for(topic);
    return &t;
}

void memory_backplane::prune(topic_state& t, std::chrono::steady_clock::time_point now) const
{
    while (t.history.size() > t.limits->max_messages)
        t.history.pop_front();
    while (!t.history.empty() && now - t.history.front()->published_at() > t.limits->max_age)
        t.history.pop_front();
}

void memory_backplane::publish(std::string topic, std::string data, publish_handler done)
{
    auto* t = find_or_create(topic);
    if (!t) {
        done(error::too_many_topics, {});
        return;
    }
    position const where{t->offset + 1, t->epoch};
    auto m = std::make_shared<message const>(std::move(topic), where, data);
    t->offset = where.offset;
    if (t->limits->max_messages > 0) {
        t->history.push_back(m);
        prune(*t, m->published_at());
    }
    // Straight back to this node: the same step the Redis backplane takes when its subscription fires.
    deliver(m);
    done({}, where);
}

void memory_backplane::history(std::string const& topic, std::optional<position> const& since, history_handler done)
{
    auto* t = find_or_create(topic);
    if (!t) {
        done(error::too_many_topics, {});
        return;
    }
    prune(*t, std::chrono::steady_clock::now());
    history_result result;
    result.latest = {t->offset, t->epoch};
    if (!since) {
        done({}, std::move(result));
        return;
    }
    // An empty epoch asks for everything retained, from whichever epoch is current.
    bool const same_epoch = since->epoch.empty() ? since->offset == 0 : since->epoch == t->epoch;
    if (!same_epoch || since->offset > t->offset) {
        result.recovered = false;
        done({}, std::move(result));
        return;
    }
    std::uint64_t const first_kept = t->history.empty() ? t->offset + 1 : t->history.front()->offset();
    result.recovered = first_kept <= since->offset + 1;
    auto const from = std::lower_bound(t->history.begin(), t->history.end(), since->offset + 1,
                                       [](message_ptr const& m, std::uint64_t off) { return m->offset() < off; });
    result.messages.assign(from, t->history.end());
    done({}, std::move(result));
}

void memory_backplane::set_options(history_options options)
{
    options_ = std::move(options);
    auto const now = std::chrono::steady_clock::now();
    for (auto& [name, t] : topics_) {
        t.limits = &options_.limits_for(name);  // the old rules are gone: re-point every topic
        prune(t, now);
    }
}

void memory_backplane::subscribe(std::string const& topic)
{
    if (auto* t = find_or_create(topic))
        t->subscribed = true;
}

void memory_backplane::unsubscribe(std::string const& topic)
{
    if (auto it = topics_.find(topic); it != topics_.end())
        it->second.subscribed = false;
}

std::optional<position> memory_backplane::delivered(std::string const& topic) const
{
    // Every message is delivered as it is published.
    if (auto it = topics_.find(topic); it != topics_.end())
        return position{it->second.offset, it->second.epoch};
    return std::nullopt;
}

void memory_backplane::close()
{
    closed_ = true;
    sweep_timer_.cancel();
}

void memory_backplane::schedule_sweep()
{
    sweep_timer_.expires_after(options_.sweep_interval);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || closed_)
            return;
        sweep();
        schedule_sweep();
    });
}

void memory_backplane::sweep()
{
    // A topic whose history has expired and that nobody here listens to holds nothing worth keeping; dropping it
    // starts a new epoch if it is used again, which resuming clients see as recovered:false (correctly: what
    // they missed is gone).
    auto const now = std::chrono::steady_clock::now();
    for (auto it = topics_.begin(); it != topics_.end();) {
        prune(it->second, now);
        if (it->second.history.empty() && !it->second.subscribed)
            it = topics_.erase(it);
        else
            ++it;
    }
}

}  // namespace switchboard
