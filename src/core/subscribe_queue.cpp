#include "core/subscribe_queue.hpp"

#include "core/client_address.hpp"
#include "core/hook_guard.hpp"
#include "core/topic_join.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>

namespace switchboard::detail {

struct subscribe_queue::operation {
    channel_ptr ch;
    std::string topic;
    std::optional<position> since;
    std::size_t max_bytes;  // of the first history page
    authorization authorized;
    subscribe_handler done;
    std::shared_ptr<topic_join> join;  // while joining
    bool over = false;                 // answered, cancelled or dropped: late answers are ignored
};

struct subscribe_queue::pattern_operation {
    channel_ptr ch;
    std::string pattern;
    std::optional<position> since;
    std::size_t max_bytes;  // of the first history page
    authorization authorized;
    pattern_handler done;
    bool counted = false;  // holds a place under the limit until made
    bool over = false;
};

subscribe_queue::subscribe_queue(boost::asio::any_io_executor executor, server_options const& options,
                                 switchboard::hooks& hooks, switchboard::hub& hub, switchboard::backplane& backplane,
                                 authorize_function authorize)
    : executor_(std::move(executor)),
      options_(options),
      hooks_(hooks),
      hub_(hub),
      backplane_(backplane),
      authorize_(std::move(authorize))
{
}

subscribe_queue::~subscribe_queue() = default;

std::size_t subscribe_queue::joining(channel const& ch) const noexcept
{
    auto const it = channels_.find(&ch);
    return it == channels_.end() ? 0 : it->second.joining;
}

bool subscribe_queue::hold(channel const& ch) noexcept
{
    auto const it = channels_.find(&ch);
    if (it == channels_.end())
        return true;
    if (it->second.held >= options_.max_queue_messages)
        return false;
    ++it->second.held;
    return true;
}

void subscribe_queue::release(channel const& ch, std::size_t n) noexcept
{
    if (auto const it = channels_.find(&ch); it != channels_.end())
        it->second.held -= std::min(n, it->second.held);
}

void subscribe_queue::subscribe(channel& ch, std::string const& topic, std::optional<position> const& since,
                                std::size_t max_bytes, authorization a, subscribe_handler done)
{
    if (!is_valid_topic(topic))
        return done(error::invalid_topic, {});
    auto const make = [&] {
        return std::make_shared<operation>(operation{ch.shared_from_this(), topic, since, max_bytes, a, std::move(done), {}, false});
    };
    auto queues = channels_.find(&ch);
    if (queues != channels_.end()) {
        if (auto it = queues->second.topics.find(topic); it != queues->second.topics.end()) {
            it->second.operations.push_back(make());  // its turn comes when those before it are answered
            return;
        }
    }
    bool const new_subscription = !hub_.subscribed(ch, topic);
    std::size_t const joining = queues == channels_.end() ? 0 : queues->second.joining;
    if (new_subscription && ch.subscription_count() + ch.pattern_count() + joining >= options_.max_subscriptions)
        return done(error::too_many_topics, {});
    if (queues == channels_.end())
        queues = channels_.try_emplace(&ch).first;
    auto& q = queues->second.topics[topic];
    auto op = make();
    q.operations.push_back(op);
    q.counted = new_subscription;
    queues->second.joining += new_subscription;
    start(std::move(op));
}

void subscribe_queue::start(std::shared_ptr<operation> op)
{
    if (op->authorized == authorization::done)
        return subscribe_now(std::move(op));
    auto const& ch = *op->ch;
    authorize_(op->topic, false, ch.identity_pointer(), op->ch, ch.remote_address(),
               [this, op](boost::system::error_code ec, std::string reason) {
        if (ec)
            return finish(op, ec, {}, std::move(reason));
        if (!op->over)
            subscribe_now(op);
    });
}

void subscribe_queue::subscribe_now(std::shared_ptr<operation> op)
{
    auto& ch = *op->ch;
    auto answer = [this, op](boost::system::error_code ec, history_result r) { finish(op, ec, std::move(r)); };
    if (hub_.subscribed(ch, op->topic)) {
        // Already subscribed: only the history is asked for (a client re-reading what it missed).
        return backplane_.history(op->topic, op->since, op->max_bytes, std::move(answer));
    }
    if (hooks_.on_subscribe) {
        if (auto ec = guarded("on_subscribe", [&] { return hooks_.on_subscribe(ch, op->topic); }))
            return finish(op, ec, {});
        if (op->over)
            return;  // the hook closed the channel, or unsubscribed it
    }
    // A topic the backplane takes on for this join is the client's, under its bound of topics per client; a
    // channel with no peer (a C++ listener) is the service's own, charged to nobody as its publishes are.
    auto const address = ch.remote_address();
    auto const charged = backplane_.on_behalf_of(address.empty() ? std::string() : client_key(ch.identity(), address));
    auto join = topic_join::start(*this, ch, op->topic, op->since, op->max_bytes, std::move(answer));
    if (!op->over)
        op->join = std::move(join);
}

void subscribe_queue::finish(std::shared_ptr<operation> op, boost::system::error_code ec, history_result r,
                             std::string reason)
{
    if (op->over)
        return;  // cancelled or dropped meanwhile: answered already, or never to be
    op->over = true;
    op->join.reset();
    auto queues = channels_.find(op->ch.get());
    auto& topics = queues->second.topics;
    auto it = topics.find(op->topic);
    auto& q = it->second;
    q.operations[q.running++].reset();
    if (q.running >= 16 && 2 * q.running >= q.operations.size()) {
        // A queue that never empties (a client re-subscribing as fast as it is answered) gives back its slots.
        q.operations.erase(q.operations.begin(), q.operations.begin() + static_cast<std::ptrdiff_t>(q.running));
        q.running = 0;
    }
    if (!ec && q.counted) {
        q.counted = false;  // subscribed: the hub counts it from now on
        --queues->second.joining;
    }
    std::shared_ptr<operation> next;
    if (q.running < q.operations.size()) {
        next = q.operations[q.running];
    } else {
        queues->second.joining -= q.counted;
        topics.erase(it);
        if (topics.empty() && queues->second.patterns.empty())
            channels_.erase(queues);
    }
    auto done = std::move(op->done);
    done(ec, std::move(r), std::move(reason));
    // The next one starts on a later turn: a long queue of subscribes answered at once would otherwise recurse.
    if (next)
        boost::asio::post(executor_, [this, next] {
            if (!next->over)
                start(next);
        });
}

void subscribe_queue::call_off(operation& op)
{
    op.over = true;
    if (auto join = std::move(op.join))
        join->cancel();
}

bool subscribe_queue::cancel(channel& ch, std::string_view topic)
{
    auto queues = channels_.find(&ch);
    if (queues == channels_.end())
        return false;
    auto& topics = queues->second.topics;
    auto it = topics.find(topic);
    if (it == topics.end())
        return false;
    auto q = std::move(it->second);
    queues->second.joining -= q.counted;
    topics.erase(it);
    if (topics.empty() && queues->second.patterns.empty())
        channels_.erase(queues);
    for (auto i = q.running; i < q.operations.size(); ++i)
        call_off(*q.operations[i]);
    // Answered after the bookkeeping: an answer may close the channel (a full queue), which drops the rest.
    for (auto i = q.running; i < q.operations.size(); ++i) {
        auto done = std::move(q.operations[i]->done);
        done(error::unsubscribed, {});
    }
    return true;
}

void subscribe_queue::drop(channel& ch)
{
    auto queues = channels_.find(&ch);
    if (queues == channels_.end())
        return;
    auto topics = std::move(queues->second.topics);
    auto patterns = std::move(queues->second.patterns);
    channels_.erase(queues);
    for (auto& [name, q] : topics)
        for (auto i = q.running; i < q.operations.size(); ++i)
            call_off(*q.operations[i]);
    for (auto& op : patterns)
        op->over = true;
}

void subscribe_queue::subscribe_pattern(channel& ch, std::string const& pattern, std::optional<position> const& since,
                                        std::size_t max_bytes, authorization a, pattern_handler done)
{
    if (!is_valid_pattern(pattern) || !backplane_.delivers_patterns())
        return done(error::invalid_pattern, {});
    auto queues = channels_.find(&ch);
    bool pending = false;
    if (queues != channels_.end())
        for (auto const& op : queues->second.patterns)
            pending = pending || op->pattern == pattern;
    bool const counted = !pending && !hub_.subscribed_pattern(ch, pattern);
    std::size_t const joining = queues == channels_.end() ? 0 : queues->second.joining;
    if (counted && ch.subscription_count() + ch.pattern_count() + joining >= options_.max_subscriptions)
        return done(error::too_many_topics, {});
    if (queues == channels_.end())
        queues = channels_.try_emplace(&ch).first;
    auto op = std::make_shared<pattern_operation>(
        pattern_operation{ch.shared_from_this(), pattern, since, max_bytes, a, std::move(done), counted, false});
    queues->second.patterns.push_back(op);
    queues->second.joining += counted;
    start_pattern(std::move(op));
}

void subscribe_queue::start_pattern(std::shared_ptr<pattern_operation> op)
{
    auto then = [this, op](boost::system::error_code ec, std::string reason) {
        if (op->over)
            return;
        if (ec)
            return finish_pattern(op, ec, {}, std::move(reason));
        auto& ch = *op->ch;
        bool const added = !hub_.subscribed_pattern(ch, op->pattern);
        if (added) {
            if (hooks_.on_subscribe) {
                if (auto e = guarded("on_subscribe", [&] { return hooks_.on_subscribe(ch, op->pattern); }))
                    return finish_pattern(op, e);
                if (op->over)
                    return;  // the hook closed the channel, or unsubscribed it
            }
            hub_.subscribe_pattern(ch, op->pattern);
            // In the hub now, where it counts against the limit: no longer as one being made.
            if (op->counted) {
                op->counted = false;
                --channels_.find(&ch)->second.joining;
            }
        }
        // Answered once the node receives the pattern's topics (a Redis or NATS subscription confirmed), so
        // that whatever is published after the answer reaches the client.
        backplane_.pattern_ready(op->pattern, [this, op, added](boost::system::error_code ec) {
            if (op->over)
                return;  // the channel closed, or unsubscribed the pattern (the hub has let it go then)
            if (ec) {
                if (added)
                    hub_.unsubscribe_pattern(*op->ch, op->pattern);
                return finish_pattern(op, ec);
            }
            read_pattern(op, added);
        });
    };
    if (op->authorized == authorization::done)
        return then({}, {});
    auto const& ch = *op->ch;
    authorize_(op->pattern, true, ch.identity_pointer(), op->ch, ch.remote_address(), std::move(then));
}

void subscribe_queue::read_pattern(std::shared_ptr<pattern_operation> const& op, bool added)
{
    // Read after the pattern holds: every message past the sequence this answers reaches the channel live.
    backplane_.pattern_history(op->pattern, op->since, op->max_bytes, options_.max_resume_topics,
                               [this, op, added](boost::system::error_code ec, pattern_history_result r) {
                                   if (op->over)
                                       return;
                                   if (ec && added)
                                       hub_.unsubscribe_pattern(*op->ch, op->pattern);
                                   finish_pattern(op, ec, std::move(r));
                               });
}

void subscribe_queue::finish_pattern(std::shared_ptr<pattern_operation> const& op, boost::system::error_code ec,
                                     pattern_history_result r, std::string reason)
{
    op->over = true;
    auto queues = channels_.find(op->ch.get());
    auto& ops = queues->second.patterns;
    ops.erase(std::find(ops.begin(), ops.end(), op));
    queues->second.joining -= op->counted;
    if (ops.empty() && queues->second.topics.empty())
        channels_.erase(queues);
    auto done = std::move(op->done);
    done(ec, std::move(r), std::move(reason));
}

bool subscribe_queue::cancel_pattern(channel& ch, std::string_view pattern)
{
    auto queues = channels_.find(&ch);
    if (queues == channels_.end())
        return false;
    std::vector<std::shared_ptr<pattern_operation>> called_off;
    auto& ops = queues->second.patterns;
    for (auto it = ops.begin(); it != ops.end();) {
        if ((*it)->pattern == pattern) {
            (*it)->over = true;
            queues->second.joining -= (*it)->counted;
            called_off.push_back(std::move(*it));
            it = ops.erase(it);
        } else {
            ++it;
        }
    }
    if (ops.empty() && queues->second.topics.empty())
        channels_.erase(queues);
    // Answered after the bookkeeping, oldest first: an answer may close the channel.
    for (auto& op : called_off) {
        auto done = std::move(op->done);
        done(error::unsubscribed, {});
    }
    return !called_off.empty();
}

}  // namespace switchboard::detail
