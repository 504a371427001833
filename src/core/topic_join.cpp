#include "core/topic_join.hpp"

#include "core/subscribe_queue.hpp"

#include <switchboard/error.hpp>

#include <spdlog/spdlog.h>

namespace switchboard::detail {

namespace {

// How long a join waits for the node's stream to reach the history's position. It only waits when the node
// is behind Redis' own answer, which the next delivered message ends; the bound keeps a lost message from
// holding a subscriber forever (it then gets the history and the stream as they are, and may see a duplicate).
constexpr std::chrono::seconds join_deadline{10};

// Whether this node's stream has reached `latest`, the history's position: nothing after it can be missed.
bool caught_up(backplane const& b, std::string const& topic, position const& latest)
{
    auto const node = b.delivered(topic);
    return latest.offset == 0 || (node && node->epoch == latest.epoch && node->offset >= latest.offset);
}

}  // namespace

std::shared_ptr<topic_join> topic_join::start(subscribe_queue& joins, channel& target, std::string const& topic,
                                              std::optional<position> const& since, std::size_t max_bytes,
                                              backplane::history_handler done)
{
    if (joins.hub().subscriber_count(topic) > 0)
        return start_on_live_topic(joins, target, topic, since, max_bytes, std::move(done));
    auto join = std::make_shared<topic_join>(joins, target, topic, std::move(done));
    joins.hub().subscribe(*join, topic);  // the hub keeps the join alive until it leaves
    joins.backplane().history(topic, since, max_bytes, [join](boost::system::error_code ec, history_result r) {
        join->on_history(ec, std::move(r));
    });
    return join;
}

std::shared_ptr<topic_join> topic_join::start_on_live_topic(subscribe_queue& joins, channel& target,
                                                            std::string const& topic,
                                                            std::optional<position> const& since,
                                                            std::size_t max_bytes, backplane::history_handler done)
{
    // The node follows the topic already (it has subscribers here), so the history may be asked for before a
    // stand-in subscribes: no message is delivered while this runs on the loop thread, so one subscribed once
    // history() has returned holds all that one subscribed before it would. An answer that comes at once (the
    // in-memory backplane: a long poll's every request) needs no stand-in at all when the node's stream has
    // reached it: the channel subscribes, and nothing can have come in between.
    struct answer {
        std::optional<std::pair<boost::system::error_code, history_result>> early;
        std::shared_ptr<topic_join> join;  // the stand-in, when the answer comes later
    };
    auto got = std::make_shared<answer>();
    joins.backplane().history(topic, since, max_bytes, [got](boost::system::error_code ec, history_result r) {
        if (auto const join = std::move(got->join))
            return join->on_history(ec, std::move(r));
        got->early.emplace(ec, std::move(r));
    });
    if (got->early) {
        auto& [ec, history] = *got->early;
        if (ec) {
            done(ec, {});
            return nullptr;
        }
        if (caught_up(joins.backplane(), topic, history.latest)) {
            if (target.closing())
                return nullptr;  // as a join's finish(): a closing channel is not answered (its queue drops it)
            joins.hub().subscribe(target, topic);
            done({}, std::move(history));
            return nullptr;
        }
    }
    auto join = std::make_shared<topic_join>(joins, target, topic, std::move(done));
    joins.hub().subscribe(*join, topic);  // the hub keeps the join alive until it leaves
    if (got->early)
        join->on_history({}, std::move(got->early->second));  // behind the history: the stand-in holds meanwhile
    else
        got->join = join;
    return join;
}

topic_join::topic_join(subscribe_queue& joins, channel& target, std::string const& topic, backplane::history_handler done)
    : channel(target.remote_address()),
      joins_(joins),
      target_(target.shared_from_this()),
      topic_(topic),
      done_(std::move(done)),
      deadline_(joins.executor())
{
}

delivery_status topic_join::deliver(message_ptr const& m)
{
    if (over_)
        return delivery_status::closing;
    auto const target = target_.lock();
    if (!target) {
        leave();
        return delivery_status::closing;
    }
    if (!joins_.hold(*target)) {
        // Its joins hold more than the target could have queued.
        target->close(disconnect::slow_consumer());
        leave();
        return delivery_status::slow_consumer;
    }
    held_.push_back(m);
    if (history_)
        try_finish();
    return delivery_status::queued;
}

void topic_join::close(disconnect const& reason)
{
    if (over_)
        return;
    if (auto target = target_.lock())
        target->close(reason);
    leave();
}

void topic_join::cancel()
{
    leave();
}

void topic_join::on_history(boost::system::error_code ec, history_result r)
{
    if (over_)
        return;
    if (ec)
        return fail(ec);
    history_ = std::move(r);
    try_finish();
    if (over_)
        return;
    deadline_.expires_after(join_deadline);
    deadline_.async_wait([self = std::static_pointer_cast<topic_join>(shared_from_this())](boost::system::error_code e) {
        if (e || self->over_)
            return;
        spdlog::warn("topic {}: the node's stream did not reach the history's position in time", self->topic_);
        self->finish();
    });
}

void topic_join::try_finish()
{
    if (caught_up(joins_.backplane(), topic_, history_->latest))
        finish();
}

void topic_join::finish()
{
    auto target = target_.lock();
    if (!target || target->closing())
        return leave();
    history_result r = std::move(*history_);
    for (auto const& m : held_)
        if (m->epoch() == r.latest.epoch && m->offset() > r.latest.offset) {
            r.messages.push_back(m);
            r.latest = m->where();
        }
    release_held();
    // The target first, so the topic never looks empty to the hub (that would unsubscribe the node).
    joins_.hub().subscribe(*target, topic_);
    auto done = std::move(done_);
    leave();
    done({}, std::move(r));
}

void topic_join::fail(boost::system::error_code ec)
{
    auto done = std::move(done_);
    leave();
    done(ec, {});
}

void topic_join::release_held()
{
    if (auto target = target_.lock())
        joins_.release(*target, held_.size());
    held_.clear();
}

void topic_join::leave()
{
    if (over_)
        return;
    over_ = true;
    deadline_.cancel();
    release_held();
    // Released last (with this frame): what it captured may be all that keeps this join alive.
    auto unanswered = std::move(done_);
    joins_.hub().unsubscribe(*this, topic_);  // may destroy this: last
}

}  // namespace switchboard::detail
