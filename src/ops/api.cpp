#include "ops/api.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include "core/json_input.hpp"

#include <algorithm>
#include <map>
#include <memory>

namespace switchboard::detail {

void broadcast(server_context& ctx, std::vector<std::string> const& topics, std::string const& data,
               publish_options const& options, std::function<void(std::vector<broadcast_result>)> done)
{
    struct state {
        std::vector<broadcast_result> results;
        std::size_t remaining = 0;
        std::function<void(std::vector<broadcast_result>)> done;
    };
    auto s = std::make_shared<state>();
    s->results.resize(topics.size());
    s->remaining = topics.size() + 1;  // one for this call, so that synchronous completions cannot finish early
    s->done = std::move(done);
    auto const finish_one = [s] {
        if (--s->remaining == 0)
            s->done(std::move(s->results));
    };
    bool const too_large = payload_size(data) > ctx.options.max_message_size;
    for (std::size_t n = 0; n < topics.size(); ++n) {
        auto& r = s->results[n];
        r.topic = topics[n];
        if (ctx.stopping)
            r.error = error::shutting_down;
        else if (!options.idempotency_key.empty() && !is_valid_idempotency_key(options.idempotency_key))
            r.error = error::invalid_idempotency_key;
        else if (!is_valid_topic(r.topic))
            r.error = error::invalid_topic;
        else if (too_large)
            r.error = error::message_too_large;
        if (r.error) {
            finish_one();
            continue;
        }
        // The path of every publish (STYLE.md): the backplane assigns the position and delivers to every node.
        ctx.backplane.publish(r.topic, data, options, ctx.counted([s, n, finish_one](boost::system::error_code ec, position where) {
            s->results[n].error = ec;
            s->results[n].where = std::move(where);
            finish_one();
        }));
    }
    finish_one();
}

void on_every_loop(server_context& ctx, server_context::loop_visit visit, std::function<void()> done)
{
    if (!ctx.visit_loops) {
        visit(ctx, 0)();
        return done();
    }
    ctx.visit_loops(std::move(visit), std::move(done));
}

namespace {

// Runs `read` on every loop and hands `done` every loop's result, here.
template <class T>
void gather(server_context& ctx, std::function<T(server_context&)> read, std::function<void(std::vector<T>)> done)
{
    auto results = std::make_shared<std::vector<T>>();
    on_every_loop(
        ctx,
        [read = std::move(read), results](server_context& loop, std::size_t) -> std::function<void()> {
            // `results` is only touched back on the asking loop, by the closure returned.
            return [results, r = read(loop)]() mutable { results->push_back(std::move(r)); };
        },
        [results, done = std::move(done)] { done(std::move(*results)); });
}

void sum(server_context& ctx, std::function<std::size_t(server_context&)> act, std::function<void(std::size_t)> done)
{
    gather<std::size_t>(ctx, std::move(act), [done = std::move(done)](std::vector<std::size_t> counts) {
        std::size_t total = 0;
        for (auto n : counts)
            total += n;
        if (done)
            done(total);
    });
}

// Closes the channels `pick` chooses; close() unregisters, so it walks a copy.
std::size_t close_where(server_context& loop, std::function<bool(channel const&)> const& pick, disconnect const& reason)
{
    std::vector<channel_ptr> chosen;
    for (auto const& ch : loop.channels)
        if (!ch->closing() && pick(*ch))
            chosen.push_back(ch);
    for (auto const& ch : chosen)
        ch->close(reason);
    return chosen.size();
}

channel_ptr find_channel(server_context& loop, std::uint64_t id)
{
    for (auto const& ch : loop.channels)
        if (ch->id() == id && !ch->closing())
            return ch;
    return nullptr;
}

}  // namespace

void channels_of_user(server_context& ctx, std::string user, std::function<void(std::vector<channel_info>)> done)
{
    gather<std::vector<channel_info>>(
        ctx,
        [user = std::move(user)](server_context& loop) {
            std::vector<channel_info> out;
            for (auto const& ch : loop.channels)
                if (!ch->closing() && ch->identity().user == user)
                    out.push_back({ch->id(), std::string(ch->transport()), ch->remote_address(), user, ch->topics(),
                                   ch->patterns()});
            return out;
        },
        [done = std::move(done)](std::vector<std::vector<channel_info>> loops) {
            std::vector<channel_info> all;
            for (auto& l : loops)
                std::move(l.begin(), l.end(), std::back_inserter(all));
            std::sort(all.begin(), all.end(), [](auto const& a, auto const& b) { return a.id < b.id; });
            done(std::move(all));
        });
}

void disconnect_user(server_context& ctx, std::string user, disconnect reason, std::function<void(std::size_t)> done)
{
    sum(
        ctx,
        [user = std::move(user), reason = std::move(reason)](server_context& loop) {
            return close_where(loop, [&](channel const& ch) { return ch.identity().user == user; }, reason);
        },
        std::move(done));
}

void disconnect_channel(server_context& ctx, std::uint64_t id, disconnect reason, std::function<void(std::size_t)> done)
{
    sum(
        ctx,
        [id, reason = std::move(reason)](server_context& loop) {
            return close_where(loop, [id](channel const& ch) { return ch.id() == id; }, reason);
        },
        std::move(done));
}

void unsubscribe_channel(server_context& ctx, std::uint64_t id, std::string topic, std::function<void(std::size_t)> done)
{
    sum(
        ctx,
        [id, topic = std::move(topic)](server_context& loop) -> std::size_t {
            auto const ch = find_channel(loop, id);
            if (!ch)
                return 0;
            bool const pattern = is_valid_pattern(topic) && !is_valid_topic(topic);
            bool const left = pattern ? loop.unsubscribe_pattern(*ch, topic) : loop.unsubscribe(*ch, topic);
            if (left)
                ch->tell_unsubscribed(topic, pattern);  // else it would wait for messages that never come
            return left ? 1 : 0;
        },
        std::move(done));
}

void topics(server_context& ctx, std::function<void(std::vector<topic_count>)> done)
{
    gather<std::vector<topic_count>>(
        ctx,
        [](server_context& loop) {
            std::vector<topic_count> out;
            loop.hub.for_each_topic([&](std::string_view name, std::size_t n) { out.push_back({std::string(name), n}); });
            return out;
        },
        [done = std::move(done)](std::vector<std::vector<topic_count>> loops) {
            std::map<std::string, std::size_t, std::less<>> summed;
            for (auto const& l : loops)
                for (auto const& t : l)
                    summed[t.topic] += t.subscribers;
            std::vector<topic_count> all;
            for (auto& [name, n] : summed)
                all.push_back({name, n});
            std::stable_sort(all.begin(), all.end(), [](auto const& a, auto const& b) { return a.subscribers > b.subscribers; });
            done(std::move(all));
        });
}

}  // namespace switchboard::detail
