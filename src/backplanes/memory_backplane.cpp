#include <switchboard/memory_backplane.hpp>

#include "backplanes/memory_store.hpp"

namespace switchboard {

memory_backplane::memory_backplane(boost::asio::any_io_executor ex, history_options options)
    : store_(std::make_unique<detail::memory_store>(std::move(options))), sweep_timer_(std::move(ex))
{
    schedule_sweep();
}

memory_backplane::~memory_backplane() = default;

std::size_t memory_backplane::cost(message const& m) noexcept
{
    return detail::memory_store::cost(m);
}

std::size_t memory_backplane::topic_count() const noexcept
{
    return store_->topic_count();
}

std::size_t memory_backplane::history_bytes() const noexcept
{
    return store_->history_bytes();
}

std::size_t memory_backplane::idempotency_key_count() const noexcept
{
    return store_->idempotency_key_count();
}

void memory_backplane::publish(std::string topic, std::string data, publish_options options, publish_handler done)
{
    auto answer = store_->publish(std::move(topic), std::move(data), client(), options.idempotency_key);
    if (answer.ec || !answer.message) {
        done(answer.ec, std::move(answer.where));  // refused, or a retry: nothing to deliver
        return;
    }
    // Straight back to this node: the same step the Redis backplane takes when its subscription fires.
    deliver(answer.message);
    done({}, answer.message->where());
}

void memory_backplane::history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                               history_handler done)
{
    auto answer = store_->history(topic, since, max_bytes, client());
    done(answer.ec, std::move(answer.result));
}

void memory_backplane::pattern_history(std::string const& pattern, std::optional<position> const& since,
                                       std::size_t max_bytes, std::size_t max_topics, pattern_history_handler done)
{
    auto answer = store_->pattern_history(pattern, since, max_bytes, max_topics);
    done(answer.ec, std::move(answer.result));
}

void memory_backplane::set_history_options(history_options options)
{
    store_->set_options(std::move(options));
}

void memory_backplane::subscribe(std::string const& topic)
{
    store_->subscribe(topic, client());
}

void memory_backplane::unsubscribe(std::string const& topic)
{
    store_->unsubscribe(topic);
}

std::optional<position> memory_backplane::delivered(std::string const& topic) const
{
    // Every message is delivered as it is published.
    return store_->position_of(topic);
}

void memory_backplane::presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                                     presence_handler done)
{
    auto answer = store_->presence.join(topic, std::move(member), max_members);
    // Straight back to this node, as a publish.
    if (answer.event)
        deliver_presence(answer.event);
    done(answer.ec);
}

std::optional<presence_totals> memory_backplane::presence_size() const
{
    return presence_totals{store_->presence.member_count(), store_->presence.topic_count()};
}

void memory_backplane::presence_leave(std::string const& topic, std::string const& client)
{
    if (auto event = store_->presence.leave(topic, client))
        deliver_presence(event);
}

void memory_backplane::presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                                        presence_page_handler done)
{
    done({}, store_->presence.members(topic, after, limit));
}

void memory_backplane::presence_stats(std::string const& topic, presence_counts_handler done)
{
    done({}, store_->presence.counts(topic));
}

void memory_backplane::close()
{
    closed_ = true;
    sweep_timer_.cancel();
}

void memory_backplane::schedule_sweep()
{
    sweep_timer_.expires_after(store_->sweep_interval());
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || closed_)
            return;
        store_->sweep();
        schedule_sweep();
    });
}

}  // namespace switchboard
