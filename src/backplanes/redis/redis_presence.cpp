#include "backplanes/redis/redis_presence.hpp"

#include <switchboard/error.hpp>

#include "backplanes/redis/presence_codec.hpp"
#include "backplanes/redis/redis_connection.hpp"
#include "backplanes/redis/redis_scripts.hpp"

#include <boost/asio/post.hpp>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace switchboard::redis {

namespace {

boost::system::error_code unavailable()
{
    return make_error_code(error::backplane_unavailable);
}

std::string milliseconds(std::chrono::milliseconds d)
{
    return std::to_string(std::max<std::int64_t>(d.count(), 1));
}

}  // namespace

redis_presence::redis_presence(boost::asio::any_io_executor ex, redis_names const& names,
                               redis_options const& options, std::string node, eval_function eval,
                               deliver_function deliver)
    : names_(names),
      options_(options),
      node_(std::move(node)),
      eval_(std::move(eval)),
      deliver_(std::move(deliver)),
      channel_(names.prefix + "#presence"),
      expiry_key_(names.shared_key("presence.expiry")),
      timer_(ex)
{
}

void redis_presence::load_scripts(redis_connection& c, std::function<bool(redisReply const*)> failed)
{
    std::pair<std::string*, std::string_view> const all[] = {
        {&join_sha_, presence_join_script()},       {&leave_sha_, presence_leave_script()},
        {&members_sha_, presence_members_script()}, {&stats_sha_, presence_stats_script()},
        {&refresh_sha_, presence_refresh_script()}, {&sweep_sha_, presence_sweep_script()}};
    for (auto const& [sha, script] : all)
        c.command({"SCRIPT", "LOAD", std::string(script)}, [sha, failed](redisReply const* r) {
            if (!failed(r))
                *sha = std::string(text(r));
        });
}

void redis_presence::start()
{
    schedule();
}

void redis_presence::close()
{
    closed_ = true;
    timer_.cancel();
}

std::vector<std::string> redis_presence::keys(std::string const& topic) const
{
    return {names_.key(topic, "present"), names_.key(topic, "members"), names_.key(topic, "users"), expiry_key_};
}

void redis_presence::join(std::string const& topic, presence_member member, std::size_t max_members,
                          backplane::presence_handler done)
{
    // Held from now, not from Redis' answer: a leave queued behind this join then finds it to forget, and the
    // scripts run in the order they were sent.
    auto entry = member.client + topic;
    auto [it, fresh] = owned_.try_emplace(entry);
    if (fresh) {
        it->second = {topic, std::move(member), ++joins_};
        ++topics_[topic];
    }
    send_join(entry, it->second, max_members, std::move(done));
}

void redis_presence::send_join(std::string const& entry, owned const& o, std::size_t max_members,
                               backplane::presence_handler done)
{
    auto args = keys(o.topic);
    args.insert(args.end(), {o.member.client, presence_record(node_, o.member), o.member.user,
                             std::to_string(max_members), milliseconds(options_.presence_expiry), channel_, o.topic});
    auto const join = o.join;
    bool const sent = eval_(join_sha_, presence_join_script(), 4, std::move(args),
                            [this, entry, join, done](redisReply const* r) {
                                if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= 0)
                                    return done({});
                                auto it = owned_.find(entry);
                                if (it != owned_.end() && it->second.join == join)
                                    forget(it);  // refused, or not known to be there: a leftover expires
                                if (r && r->type == REDIS_REPLY_INTEGER)
                                    return done(make_error_code(error::too_many_members));
                                if (r)
                                    spdlog::error("redis: presence join failed: {}",
                                                  r->type == REDIS_REPLY_ERROR ? text(r) : "bad reply");
                                done(unavailable());
                            });
    if (!sent) {
        if (auto it = owned_.find(entry); it != owned_.end() && it->second.join == join)
            forget(it);
        done(unavailable());
    }
}

void redis_presence::forget(std::unordered_map<std::string, owned>::iterator it)
{
    if (auto t = topics_.find(it->second.topic); t != topics_.end() && --t->second == 0)
        topics_.erase(t);
    owned_.erase(it);
}

void redis_presence::leave(std::string const& topic, std::string const& client)
{
    auto it = owned_.find(client + topic);
    if (it == owned_.end())
        return;
    forget(it);
    auto args = keys(topic);
    args.insert(args.end(), {client, channel_, topic});
    // Not sent (Redis unreachable): no longer refreshed, the member expires and a sweep publishes its leave.
    (void)eval_(leave_sha_, presence_leave_script(), 4, std::move(args), [](redisReply const* r) {
        if (r && r->type == REDIS_REPLY_ERROR)
            spdlog::error("redis: presence leave failed: {}", text(r));
    });
}

void redis_presence::members(std::string const& topic, std::string const& after, std::size_t limit,
                             backplane::presence_page_handler done)
{
    if (limit == 0)
        return done({}, {});
    auto k = keys(topic);
    std::vector<std::string> args{k[0], k[1], after, std::to_string(limit)};
    bool const sent = eval_(members_sha_, presence_members_script(), 2, std::move(args), [done](redisReply const* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER)
            return done(unavailable(), {});
        presence_page page;
        for (std::size_t i = 1; i + 1 < r->elements; i += 2) {
            auto m = presence_member_of(text(r->element[i]), text(r->element[i + 1]));
            if (m)
                page.members.push_back(std::move(*m));
        }
        if (r->element[0]->integer == 1 && !page.members.empty())
            page.next = page.members.back().client;
        done({}, std::move(page));
    });
    if (!sent)
        done(unavailable(), {});
}

void redis_presence::stats(std::string const& topic, backplane::presence_counts_handler done)
{
    std::vector<std::string> args{names_.key(topic, "present"), names_.key(topic, "users")};
    bool const sent = eval_(stats_sha_, presence_stats_script(), 2, std::move(args), [done](redisReply const* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
            r->element[1]->type != REDIS_REPLY_INTEGER)
            return done(unavailable(), {});
        done({}, {static_cast<std::size_t>(std::max<long long>(r->element[0]->integer, 0)),
                  static_cast<std::size_t>(std::max<long long>(r->element[1]->integer, 0))});
    });
    if (!sent)
        done(unavailable(), {});
}

void redis_presence::on_event(std::string_view payload)
{
    auto e = presence_event_of(payload);
    if (!e) {
        spdlog::error("redis: malformed presence event");
        return;
    }
    deliver_(e);
}

// One timer for both jobs: they share the period (a third of the expiry), so a member is refreshed at least twice
// before it could expire, and a dead node's members are swept within a third of the expiry after it.
void redis_presence::schedule()
{
    if (closed_)
        return;
    timer_.expires_after(std::max(options_.presence_expiry / 3, std::chrono::milliseconds(10)));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || closed_)
            return;
        refresh();
        sweep();
        schedule();
    });
}

void redis_presence::refresh()
{
    auto it = owned_.begin();
    while (it != owned_.end()) {
        std::vector<std::string> args{expiry_key_, milliseconds(options_.presence_expiry)};
        for (std::size_t n = 0; n < batch && it != owned_.end(); ++n, ++it)
            args.push_back(it->first);
        // Not sent (Redis unreachable): the next tick tries again; past the expiry, the members are swept and
        // joined again by the refresh that finds them missing.
        bool const sent = eval_(refresh_sha_, presence_refresh_script(), 1, std::move(args), [this](redisReply const* r) {
            if (!r || r->type != REDIS_REPLY_ARRAY)
                return;
            for (std::size_t i = 0; i < r->elements; ++i) {
                auto o = owned_.find(std::string(text(r->element[i])));
                if (o == owned_.end())
                    continue;  // left meanwhile
                spdlog::warn("redis: presence member {} of {} expired while this node held it; joining it again",
                             o->second.member.client, o->second.topic);
                send_join(o->first, o->second, std::numeric_limits<std::size_t>::max(), [](boost::system::error_code) {});
            }
        });
        if (!sent)
            return;
    }
}

void redis_presence::sweep()
{
    if (sweeping_)
        return;  // the previous sweep has not answered: one at a time
    std::vector<std::string> args{expiry_key_, names_.prefix, channel_, std::to_string(batch)};
    sweeping_ = eval_(sweep_sha_, presence_sweep_script(), 1, std::move(args), [this](redisReply const* r) {
        sweeping_ = false;
        if (closed_)
            return;
        // A full batch: more may have expired (a large node died); sweep on in the next turn.
        if (r && r->type == REDIS_REPLY_INTEGER && static_cast<std::size_t>(r->integer) >= batch)
            sweep();
    });
}

}  // namespace switchboard::redis
