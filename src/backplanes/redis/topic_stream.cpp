#include "backplanes/redis/topic_stream.hpp"

#include <spdlog/spdlog.h>

namespace switchboard::redis {

topic_stream::topic_stream(host& h, std::string topic, std::size_t max_held)
    : host_(h), topic_(std::move(topic)), max_held_(max_held)
{
}

void topic_stream::start_at(position const& p)
{
    if (!last_)
        last_ = p;
}

void topic_stream::accept(message_ptr const& m)
{
    if (catching_up_) {
        if (held_.size() >= max_held_)
            return gap(m->where());
        held_.push_back(m);
        return;
    }
    if (last_ && m->epoch() != last_->epoch) {
        // Redis lost the topic (a restart without persistence, an eviction): what came before is gone.
        spdlog::warn("redis: topic {} changed epoch ({} -> {})", topic_, last_->epoch, m->epoch());
        return gap(m->where(), m);
    }
    if (last_ && m->offset() <= last_->offset)
        return;  // already delivered (from history)
    if (last_ && m->offset() > last_->offset + 1) {
        held_.push_back(m);
        return catch_up();
    }
    deliver(m);
}

void topic_stream::resume()
{
    if (last_)
        catch_up();
}

void topic_stream::retry()
{
    if (catch_up_failed_)
        catch_up();
}

void topic_stream::reset()
{
    recent_.forget();
    last_.reset();
    held_.clear();
    catching_up_ = catch_up_failed_ = false;
}

void topic_stream::catch_up()
{
    catching_up_ = true;
    catch_up_failed_ = false;
    // This node's own stream, whatever its length: bounded by the topic's history in Redis.
    host_.read_missed(topic_, *last_);
}

void topic_stream::caught_up(boost::system::error_code ec, history_result r)
{
    if (!catching_up_)
        return;
    if (ec) {
        catch_up_failed_ = true;  // again when the command connection is back
        return;
    }
    if (!r.recovered)
        return gap(r.latest);
    for (auto const& m : r.messages)
        if (m->offset() > last_->offset)
            deliver(m);
    release_held();
}

void topic_stream::release_held()
{
    catching_up_ = false;
    auto held = std::move(held_);
    held_.clear();
    for (auto const& m : held)
        accept(m);
}

void topic_stream::gap(position now, message_ptr const& next)
{
    recent_.forget();
    last_ = std::move(now);
    held_.clear();
    catching_up_ = false;
    // May unsubscribe the topic (its subscribers close); the stream stays until the unsubscribe is confirmed.
    if (host_.gap(topic_) && next) {
        recent_.remember(next);
        host_.deliver(next);
    }
}

void topic_stream::deliver(message_ptr const& m)
{
    last_ = m->where();
    recent_.remember(m);
    host_.deliver(m);
}

std::optional<history_result> topic_stream::recent(position const& since, std::size_t max_bytes,
                                                   std::chrono::steady_clock::time_point oldest) const
{
    if (!last_ || catching_up_)
        return std::nullopt;
    return recent_.after(since, *last_, max_bytes, oldest);
}

}  // namespace switchboard::redis
