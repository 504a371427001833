#include <switchboard/error.hpp>
#include <switchboard/redis_backplane.hpp>

#include "core/epoch.hpp"
#include "backplanes/redis/redis_codec.hpp"
#include "backplanes/redis/redis_link.hpp"
#include "backplanes/redis/redis_presence.hpp"
#include "backplanes/redis/redis_scripts.hpp"
#include "backplanes/redis/topic_stream.hpp"

#include <boost/asio/steady_timer.hpp>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <switchboard/topic.hpp>

#include <algorithm>
#include <list>
#include <random>
#include <utility>
#include <unordered_map>

namespace switchboard {

namespace asio = boost::asio;
using redis::is_error;
using redis::redis_link;
using redis::text;
using redis::topic_stream;

namespace {

boost::system::error_code unavailable()
{
    return make_error_code(error::backplane_unavailable);
}

}  // namespace

struct redis_backplane::impl final : topic_stream::host {
    enum class subscription { none, subscribing, subscribed, unsubscribing };

    // This node's view of one topic it subscribes to.
    struct topic_state {
        topic_state(topic_stream::host& h, std::string const& topic, std::size_t max_held)
            : stream(h, topic, max_held)
        {
        }
        bool wanted = false;                             // local subscribers want it
        subscription state = subscription::none;         // its Redis subscription
        std::vector<std::function<void(bool)>> waiting;  // history reads waiting for the subscription (true: go)
        topic_stream stream;                             // what this node delivered of it, in offset order
        bool by_pattern = false;                         // followed through a pattern (in pattern_topics)
        std::list<std::string>::iterator seen;           // its place in pattern_topics, while by_pattern
    };

    // One Redis glob (PSUBSCRIBE) and the node's patterns it covers: "a.*" and "a.>" share "<prefix>a.*".
    struct glob_state {
        std::vector<std::string> patterns;             // wanted while not empty
        subscription state = subscription::none;
        std::vector<ready_handler> waiting;            // pattern_ready calls waiting for the subscription
        bool lost = false;                             // its subscription went with the connection
    };

    impl(redis_backplane& owner, asio::any_io_executor ex, redis_options o, history_options h)
        : self(owner),
          options(std::move(o)),
          history(std::move(h)),
          names{options.prefix},
          address(redis_address::parse(options.url)),
          random(std::random_device{}()),
          commands(ex, "command", address, options, random),
          pubsub(ex, "pub/sub", address, options, random),
          watchdog(ex),
          recent{options.recent_bytes},
          presence(
              ex, names, options, detail::random_epoch(random),
              [this](std::string const& sha, std::string_view script, std::size_t keys, std::vector<std::string> args,
                     std::function<void(redisReply const*)> done) {
                  return eval(sha, script, keys, std::move(args), std::move(done));
              },
              [this](presence_event_ptr const& e) { self.deliver_presence(e); })
    {
        pubsub.connection().on_push([this](redisReply const* r) { on_push(r); });
    }

    void start()
    {
        presence.start();
        commands.start([this] { set_up_commands(); }, [] {});
        pubsub.start([this] { set_up_pubsub(); }, [this] { on_pubsub_lost(); });
        watch();
    }

    // ---- connections ----

    /// True (and the link tries again later) when `r` says a set-up step failed.
    static bool failed(redis_link& l, redisReply const* r, char const* what)
    {
        if (!is_error(r))
            return false;
        spdlog::error("redis: {} failed: {}", what, r ? std::string(text(r)) : "connection lost");
        if (l.connection().open())  // a lost connection is retried by the link itself; a refusal by this
            l.retry_later();
        return true;
    }

    // AUTH and SELECT first (pipelined: Redis answers in order), then the scripts.
    void set_up_commands()
    {
        auto& c = commands.connection();
        if (!address.password.empty())
            c.command({"AUTH", address.password}, [this](redisReply const* r) { failed(commands, r, "AUTH"); });
        if (address.database != 0)
            c.command({"SELECT", std::to_string(address.database)},
                      [this](redisReply const* r) { failed(commands, r, "SELECT"); });
        c.command({"SCRIPT", "LOAD", std::string(redis::publish_script())}, [this](redisReply const* r) {
            if (!failed(commands, r, "SCRIPT LOAD"))
                publish_sha = std::string(text(r));
        });
        c.command({"SCRIPT", "LOAD", std::string(redis::history_script())}, [this](redisReply const* r) {
            if (!failed(commands, r, "SCRIPT LOAD"))
                history_sha = std::string(text(r));
        });
        presence.load_scripts(c, [this](redisReply const* r) { return failed(commands, r, "SCRIPT LOAD"); });
        // Last: Redis answers in order, so the commands are ready once every script is loaded.
        c.command({"SCRIPT", "LOAD", std::string(redis::pattern_history_script())}, [this](redisReply const* r) {
            if (failed(commands, r, "SCRIPT LOAD"))
                return;
            pattern_history_sha = std::string(text(r));
            commands.ready();
            for (auto& [name, t] : topics)
                if (t.state == subscription::subscribed || t.by_pattern)
                    t.stream.retry();
        });
    }

    // Pub/sub channels are not per database (no SELECT); the prefix keeps deployments apart.
    void set_up_pubsub()
    {
        auto& c = pubsub.connection();
        if (!address.password.empty())
            c.command({"AUTH", address.password}, [this](redisReply const* r) { failed(pubsub, r, "AUTH"); });
        c.command({"PING"}, [this](redisReply const* r) {
            if (failed(pubsub, r, "PING"))
                return;
            pubsub.ready();
            std::vector<std::string> channels{presence.channel()};
            for (auto& [name, t] : topics)
                if (t.wanted) {
                    t.state = subscription::subscribing;
                    channels.push_back(names.channel(name));
                }
            if (!channels.empty())
                pubsub.connection().subscription("SUBSCRIBE", channels);
            std::vector<std::string> wanted_globs;
            for (auto& [glob, g] : globs)
                if (!g.patterns.empty()) {
                    g.state = subscription::subscribing;
                    wanted_globs.push_back(glob);
                }
            if (!wanted_globs.empty())
                pubsub.connection().subscription("PSUBSCRIBE", wanted_globs);
        });
    }

    void on_pubsub_lost()
    {
        presence_listening = false;
        // Every subscription is gone with it: what was published meanwhile is read from history on return.
        for (auto it = topics.begin(); it != topics.end();) {
            auto& t = it->second;
            t.state = subscription::none;
            fail_waiting(t);
            if (!t.wanted && !t.by_pattern)
                it = topics.erase(it);
            else
                ++it;
        }
        for (auto it = globs.begin(); it != globs.end();) {
            auto& g = it->second;
            g.lost = g.state != subscription::none || g.lost;
            g.state = subscription::none;
            fail_waiting(g);
            if (g.patterns.empty())
                it = globs.erase(it);
            else
                ++it;
        }
    }

    // A stuck Redis answers nothing and closes nothing: a reply overdue by command_timeout drops the connection.
    void watch()
    {
        watchdog.expires_after(std::max(options.command_timeout / 4, std::chrono::milliseconds(10)));
        watchdog.async_wait([this](boost::system::error_code ec) {
            if (ec || closed)
                return;
            auto& c = commands.connection();
            if (c.pending() > 0 && std::chrono::steady_clock::now() - c.oldest_pending() > options.command_timeout) {
                spdlog::error("redis: no answer for {} ms; reconnecting", options.command_timeout.count());
                commands.retry_later();
            }
            watch();
        });
    }

    // ---- commands ----

    /// EVALSHA, falling back to EVAL when Redis lost the script (a restart, SCRIPT FLUSH, a failover).
    /// `args`: the script's `keys` keys, then its arguments.
    bool eval(std::string const& sha, std::string_view script, std::size_t keys, std::vector<std::string> args,
              std::function<void(redisReply const*)> done)
    {
        if (!commands.is_ready() || commands.connection().pending() >= options.max_pending)
            return false;
        std::vector<std::string> call{"EVALSHA", sha, std::to_string(keys)};
        call.insert(call.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
        auto& c = commands.connection();
        return c.command(call, [&c, call, script, done = std::move(done)](redisReply const* r) mutable {
            if (r && r->type == REDIS_REPLY_ERROR && text(r).starts_with("NOSCRIPT")) {
                call[0] = "EVAL";
                call[1] = script;
                if (!c.command(call, done))
                    done(nullptr);
                return;
            }
            done(r);
        });
    }

    void publish(std::string const& topic, std::string const& data, std::string const& idempotency_key,
                 publish_handler done)
    {
        auto const& limits = history.limits_for(topic);
        auto const age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(limits.max_age).count();
        std::vector<std::string> args{names.key(topic, "position"),
                                      names.key(topic, "history"),
                                      names.shared_key("sequence"),
                                      names.shared_key("topics"),
                                      data,
                                      detail::random_epoch(random),
                                      std::to_string(limits.max_messages),
                                      std::to_string(age_ms),
                                      std::to_string(options.position_ttl.count()),
                                      names.channel(topic),
                                      detail::random_epoch(random),
                                      std::to_string(std::max<std::size_t>(options.max_indexed_topics, 1)),
                                      topic};
        // A key's record expires with the window: Redis holds no key past it.
        bool const keyed = !idempotency_key.empty() && history.idempotency_window.count() > 0;
        if (keyed) {
            args.insert(args.begin() + 4, names.key(topic, "idem." + idempotency_key));
            args.push_back(std::to_string(history.idempotency_window.count()));
        }
        bool const sent = eval(publish_sha, redis::publish_script(), keyed ? 5 : 4, std::move(args),
                               [done](redisReply const* r) {
            auto where = redis::publish_reply(r);
            if (!where) {
                if (r)
                    spdlog::error("redis: publish failed: {}", r->type == REDIS_REPLY_ERROR ? text(r) : "bad reply");
                return done(unavailable(), {});
            }
            done({}, std::move(*where));
        });
        if (!sent)
            done(unavailable(), {});
    }

    /// Reads the topic's position and its history after `since` (if any), a page of at most `max_bytes` (see
    /// backplane::history); `done` gets an error or the result.
    void read(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
              history_handler done)
    {
        std::int64_t const from = since ? static_cast<std::int64_t>(since->offset) : -1;
        std::vector<std::string> args{names.key(topic, "position"), names.key(topic, "history"), std::to_string(from),
                                      detail::random_epoch(random), std::to_string(options.position_ttl.count()),
                                      std::to_string(max_bytes)};
        auto const max_age = history.limits_for(topic).max_age;
        bool const sent = eval(history_sha, redis::history_script(), 2, std::move(args),
                               [topic, since, max_age, max_bytes, done](redisReply const* r) {
                                   auto result = redis::history_reply(topic, since, max_age, max_bytes, r);
                                   if (!result)
                                       return done(unavailable(), {});
                                   done({}, std::move(*result));
                               });
        if (!sent)
            done(unavailable(), {});
    }

    /// pattern_history.lua: the sequence, and a page of the pattern's history after `since`.
    void pattern_history(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                         std::size_t max_topics, pattern_history_handler done)
    {
        auto const age_ms = [](history_limits const& l) {
            return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(l.max_age).count());
        };
        std::vector<std::string> args{names.shared_key("sequence"),
                                      names.shared_key("topics"),
                                      pattern,
                                      since ? std::to_string(since->offset) : "-1",
                                      since ? since->epoch : "",
                                      detail::random_epoch(random),
                                      std::to_string(max_topics),
                                      std::to_string(max_bytes),
                                      names.prefix,
                                      age_ms(history.limits)};
        for (auto const& rule : history.overrides) {
            args.push_back(rule.prefix);
            args.push_back(age_ms(rule.limits));
        }
        bool const sent = eval(pattern_history_sha, redis::pattern_history_script(), 2, std::move(args),
                               [since, max_bytes, done](redisReply const* r) {
                                   auto reply = redis::pattern_history_reply(since, max_bytes, r);
                                   if (!reply) {
                                       if (r)
                                           spdlog::error("redis: pattern history failed: {}",
                                                         r->type == REDIS_REPLY_ERROR ? text(r) : "bad reply");
                                       return done(unavailable(), {});
                                   }
                                   if (reply->too_many_topics)
                                       return done(make_error_code(error::too_many_topics), {});
                                   done({}, std::move(reply->result));
                               });
        if (!sent)
            done(unavailable(), {});
    }

    void history_of(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                    history_handler done)
    {
        auto it = topics.find(topic);
        if (since && it != topics.end() && it->second.state == subscription::subscribed && pubsub.is_ready()) {
            // From what this node delivered last, when it has all of it: no round trip to Redis.
            auto const max_age = history.limits_for(topic).max_age;
            if (auto r = it->second.stream.recent(*since, max_bytes, std::chrono::steady_clock::now() - max_age))
                return done({}, std::move(*r));
        }
        if (it == topics.end() || !it->second.wanted || it->second.state == subscription::subscribed)
            return read_and_track(topic, since, max_bytes, std::move(done));
        if (!pubsub.is_ready())
            return done(unavailable(), {});
        // Read only once the subscription holds: what is published after the read then reaches this node.
        it->second.waiting.push_back([this, topic, since, max_bytes, done = std::move(done)](bool go) {
            if (!go)
                return done(unavailable(), {});
            read_and_track(topic, since, max_bytes, done);
        });
    }

    void read_and_track(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                        history_handler done)
    {
        read(topic, since, max_bytes, [this, topic, done = std::move(done)](boost::system::error_code ec, history_result r) {
            if (!ec) {
                // The node's stream of a topic it just subscribed to starts after the first position it reads:
                // anything older is that read's to deliver, anything newer comes through the subscription.
                auto it = topics.find(topic);
                if (it != topics.end() && it->second.state == subscription::subscribed)
                    it->second.stream.start_at(r.latest);
            }
            done(ec, std::move(r));
        });
    }

    static void fail_waiting(glob_state& g)
    {
        auto waiting = std::move(g.waiting);
        g.waiting.clear();
        for (auto& w : waiting)
            w(unavailable());
    }

    static void fail_waiting(topic_state& t)
    {
        auto waiting = std::move(t.waiting);
        t.waiting.clear();
        for (auto& w : waiting)
            w(false);
    }

    // ---- subscriptions ----

    void subscribe(std::string const& topic)
    {
        auto& t = topics.try_emplace(topic, *this, topic, options.max_held).first->second;
        if (!t.wanted)  // only a topic of its own: a pattern's subscribers read the pattern's history
            t.stream.keep_recent(detail::recent_messages::per_topic(history.limits_for(topic)), recent);
        t.wanted = true;
        if (t.state == subscription::none && pubsub.is_ready() &&
            pubsub.connection().subscription("SUBSCRIBE", {names.channel(topic)}))
            t.state = subscription::subscribing;
        // subscribing/subscribed: nothing to do; unsubscribing: subscribed again when that is confirmed.
    }

    void unsubscribe(std::string const& topic)
    {
        auto it = topics.find(topic);
        if (it == topics.end())
            return;
        auto& t = it->second;
        t.wanted = false;
        t.stream.keep_recent(0, recent);
        if (t.state == subscription::subscribed &&
            pubsub.connection().subscription("UNSUBSCRIBE", {names.channel(topic)}))
            t.state = subscription::unsubscribing;
        else if (t.state == subscription::none && t.waiting.empty() && !t.by_pattern)
            topics.erase(it);
        // subscribing: unsubscribed when that is confirmed.
    }

    // ---- patterns ----

    void subscribe_pattern(std::string const& pattern)
    {
        auto const glob = names.glob(pattern);
        auto& g = globs[glob];
        if (std::find(g.patterns.begin(), g.patterns.end(), pattern) != g.patterns.end())
            return;
        g.patterns.push_back(pattern);
        if (g.state == subscription::none && pubsub.is_ready() &&
            pubsub.connection().subscription("PSUBSCRIBE", {glob}))
            g.state = subscription::subscribing;
        // subscribing/subscribed: nothing to do; unsubscribing: subscribed again when that is confirmed.
    }

    void unsubscribe_pattern(std::string const& pattern)
    {
        auto const glob = names.glob(pattern);
        auto it = globs.find(glob);
        if (it == globs.end())
            return;
        auto& g = it->second;
        std::erase(g.patterns, pattern);
        // Topics only this pattern covered stay until they are evicted, or until the last glob goes: dropping
        // them here could pull a topic from under its own stream (a gap closes subscribers, which unsubscribe).
        if (!g.patterns.empty())
            return;
        if (g.state == subscription::subscribed &&
            pubsub.connection().subscription("PUNSUBSCRIBE", {glob}))
            g.state = subscription::unsubscribing;
        else if (g.state == subscription::none && g.waiting.empty())
            globs.erase(it);
        // subscribing: unsubscribed when that is confirmed.
    }

    void pattern_ready(std::string const& pattern, ready_handler done)
    {
        auto it = globs.find(names.glob(pattern));
        if (it == globs.end())
            return done(unavailable());
        auto& g = it->second;
        if (g.state == subscription::subscribed)
            return done({});
        if (g.state == subscription::none)
            return done(unavailable());  // Redis is unreachable: subscribed again once it is back
        g.waiting.push_back(std::move(done));
    }

    /// True when one of this node's patterns matches `topic`. O(patterns): off the delivery path.
    bool covered(std::string_view topic) const
    {
        for (auto const& [glob, g] : globs)
            for (auto const& p : g.patterns)
                if (pattern_matches(p, topic))
                    return true;
        return false;
    }

    /// The state of `topic`, followed through a pattern from now on, as the most recently seen. Past
    /// max_pattern_topics, the least recently seen one is forgotten first.
    topic_state& follow(std::string const& topic)
    {
        auto it = topics.find(topic);
        if (it != topics.end() && it->second.by_pattern) {
            pattern_topics.splice(pattern_topics.end(), pattern_topics, it->second.seen);
            return it->second;
        }
        while (pattern_topics.size() >= std::max<std::size_t>(options.max_pattern_topics, 1))
            forget_pattern_topic(pattern_topics.front());
        it = topics.try_emplace(topic, *this, topic, options.max_held).first;  // forgetting may have erased it
        auto& t = it->second;
        t.by_pattern = true;
        t.seen = pattern_topics.insert(pattern_topics.end(), topic);
        return t;
    }

    void forget_pattern_topic(std::string topic)  // a copy: the list entry goes
    {
        auto it = topics.find(topic);
        auto& t = it->second;
        pattern_topics.erase(t.seen);
        t.by_pattern = false;
        bool const missing = t.stream.catching_up();
        if (!t.wanted && t.state == subscription::none && t.waiting.empty())
            topics.erase(it);
        if (missing) {
            spdlog::warn("redis: topic {} forgotten while reading what it missed (max_pattern_topics)", topic);
            self.report_gap(topic);  // what it held is dropped: its subscribers are told
        }
    }

    void on_pattern_push(std::string_view kind, redisReply const* r)
    {
        std::string const glob(text(r->element[1]));
        auto it = globs.find(glob);
        if (it == globs.end())
            return;
        auto& g = it->second;
        if (kind == "pmessage") {
            if (r->elements < 4 || g.state != subscription::subscribed || r->element[3]->type != REDIS_REPLY_STRING)
                return;
            auto const name = names.topic_of(text(r->element[2]));
            if (!name || !std::any_of(g.patterns.begin(), g.patterns.end(),
                                      [&](std::string const& p) { return pattern_matches(p, *name); }))
                return;  // what Redis' glob covers beyond the patterns
            std::string const topic(*name);
            on_message(topic, follow(topic), text(r->element[3]));
        } else if (kind == "psubscribe") {
            g.state = subscription::subscribed;
            if (g.patterns.empty()) {
                if (pubsub.connection().subscription("PUNSUBSCRIBE", {glob}))
                    g.state = subscription::unsubscribing;
                return fail_waiting(g);
            }
            auto waiting = std::move(g.waiting);
            g.waiting.clear();
            for (auto& w : waiting)
                w({});
            if (std::exchange(g.lost, false))
                after_lost_glob(glob);
        } else if (kind == "punsubscribe") {
            g.state = subscription::none;
            if (!g.patterns.empty()) {
                if (pubsub.connection().subscription("PSUBSCRIBE", {glob}))
                    g.state = subscription::subscribing;
                return;
            }
            fail_waiting(g);
            globs.erase(it);
            if (globs.empty())
                while (!pattern_topics.empty())
                    forget_pattern_topic(pattern_topics.front());
        }
    }

    /// The glob's subscription is back after a lost connection. Its topics this node knows read what they
    /// missed, as subscribed topics do; but a topic it never saw may have had messages meanwhile, which only
    /// resuming patterns could find: the patterns' subscribers are told (report_gap with the pattern).
    void after_lost_glob(std::string const& glob)
    {
        auto const patterns = globs[glob].patterns;  // a copy: telling subscribers may change it
        std::vector<std::string> known;
        for (auto const& topic : pattern_topics)
            known.push_back(topic);
        for (auto const& topic : known) {
            auto it = topics.find(topic);
            if (it == topics.end() || it->second.wanted || it->second.stream.catching_up())
                continue;  // a subscribed topic catches up with its own subscription
            if (std::any_of(patterns.begin(), patterns.end(), [&](auto const& p) { return pattern_matches(p, topic); }))
                it->second.stream.resume();
        }
        for (auto const& p : patterns) {
            spdlog::warn("redis: pattern {} was not followed for a while; telling its subscribers", p);
            self.report_gap(p);
        }
    }

    void on_push(redisReply const* r)
    {
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING)
            return;
        auto const kind = text(r->element[0]);
        // The presence channel first: it is no topic's, though a pattern's glob may cover it ("<prefix>*").
        if (kind == "message" && text(r->element[1]) == presence.channel()) {
            if (r->element[2]->type == REDIS_REPLY_STRING)
                presence.on_event(text(r->element[2]));
            return;
        }
        if (kind == "pmessage" && r->elements >= 4 && text(r->element[2]) == presence.channel())
            return;  // the same event comes as a message on the presence channel
        if (text(r->element[1]) == presence.channel()) {
            // Connected only from here: a join published before would not reach this node.
            if (kind == "subscribe")
                presence_listening = true;
            return;
        }
        if (kind == "pmessage" || kind == "psubscribe" || kind == "punsubscribe")
            return on_pattern_push(kind, r);
        auto const name = names.topic_of(text(r->element[1]));
        if (!name)
            return;
        std::string const topic(*name);
        auto it = topics.find(topic);
        if (it == topics.end())
            return;
        auto& t = it->second;
        if (kind == "message") {
            if (t.wanted && t.state == subscription::subscribed && r->element[2]->type == REDIS_REPLY_STRING)
                on_message(topic, t, text(r->element[2]));
        } else if (kind == "subscribe") {
            t.state = subscription::subscribed;
            if (!t.wanted) {
                if (pubsub.connection().subscription("UNSUBSCRIBE", {names.channel(topic)}))
                    t.state = subscription::unsubscribing;
                return fail_waiting(t);
            }
            auto waiting = std::move(t.waiting);
            t.waiting.clear();
            for (auto& w : waiting)
                w(true);
            // Back after a lost connection: read what was published while this node was not listening.
            if (!t.stream.catching_up())
                t.stream.resume();
        } else if (kind == "unsubscribe") {
            t.state = subscription::none;
            if (t.by_pattern)
                return;  // its stream goes on through the pattern, in the same order
            t.stream.reset();
            if (t.wanted) {
                if (pubsub.connection().subscription("SUBSCRIBE", {names.channel(topic)}))
                    t.state = subscription::subscribing;
            } else if (t.waiting.empty()) {
                topics.erase(it);
            }
        }
    }

    void on_message(std::string const& topic, topic_state& t, std::string_view payload)
    {
        auto m = redis::live_message(topic, payload);
        if (!m) {
            spdlog::error("redis: malformed message on topic {}", topic);
            return;
        }
        t.stream.accept(m);
    }

    // ---- topic_stream::host ----

    void deliver(message_ptr const& m) override { self.deliver(m); }

    bool gap(std::string const& topic) override
    {
        self.report_gap(topic);  // may unsubscribe the topic (its subscribers close): it stays until confirmed
        auto it = topics.find(topic);
        return it != topics.end() && (it->second.wanted || (it->second.by_pattern && covered(topic)));
    }

    void read_missed(std::string const& topic, position const& after) override
    {
        read(topic, after, backplane::whole_history, [this, topic](boost::system::error_code ec, history_result r) {
            if (auto it = topics.find(topic); it != topics.end())
                it->second.stream.caught_up(ec, std::move(r));
        });
    }

    void close()
    {
        if (closed)
            return;
        closed = true;
        watchdog.cancel();
        presence.close();
        commands.close();
        pubsub.close();
        for (auto& [name, t] : topics)
            fail_waiting(t);
        for (auto& [glob, g] : globs)
            fail_waiting(g);
    }

    redis_backplane& self;
    redis_options options;
    history_options history;
    redis::redis_names names;
    redis_address address;
    std::mt19937_64 random;  // epochs, and the links' jitter
    redis_link commands;     // scripts
    redis_link pubsub;       // the topics' channels
    asio::steady_timer watchdog;
    std::string publish_sha;
    std::string history_sha;
    std::string pattern_history_sha;
    detail::recent_budget recent;  // before the topics: their streams give their share back as they go
    std::unordered_map<std::string, topic_state> topics;
    std::unordered_map<std::string, glob_state> globs;
    std::list<std::string> pattern_topics;  // topics followed through patterns, least recently seen first
    bool closed = false;
    bool presence_listening = false;  // the presence channel's subscription is confirmed
    redis::redis_presence presence;  // last: its handlers use the connections and names above
};

redis_backplane::redis_backplane(asio::any_io_executor ex, redis_options options, history_options history)
    : impl_(std::make_unique<impl>(*this, ex, std::move(options), std::move(history)))
{
    impl_->start();
}

redis_backplane::~redis_backplane() = default;

void redis_backplane::publish(std::string topic, std::string data, publish_options options, publish_handler done)
{
    impl_->publish(topic, data, options.idempotency_key, std::move(done));
}

void redis_backplane::history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                              history_handler done)
{
    impl_->history_of(topic, since, max_bytes, std::move(done));
}

void redis_backplane::pattern_history(std::string const& pattern, std::optional<position> const& since,
                                      std::size_t max_bytes, std::size_t max_topics, pattern_history_handler done)
{
    impl_->pattern_history(pattern, since, max_bytes, max_topics, std::move(done));
}

void redis_backplane::subscribe(std::string const& topic)
{
    impl_->subscribe(topic);
}

void redis_backplane::unsubscribe(std::string const& topic)
{
    impl_->unsubscribe(topic);
}

void redis_backplane::subscribe_pattern(std::string const& pattern)
{
    impl_->subscribe_pattern(pattern);
}

void redis_backplane::unsubscribe_pattern(std::string const& pattern)
{
    impl_->unsubscribe_pattern(pattern);
}

void redis_backplane::pattern_ready(std::string const& pattern, ready_handler done)
{
    impl_->pattern_ready(pattern, std::move(done));
}

std::size_t redis_backplane::subscribed_globs() const noexcept
{
    return static_cast<std::size_t>(std::count_if(impl_->globs.begin(), impl_->globs.end(), [](auto const& g) {
        return g.second.state == impl::subscription::subscribed;
    }));
}

std::size_t redis_backplane::pattern_topics() const noexcept
{
    return impl_->pattern_topics.size();
}

std::optional<position> redis_backplane::delivered(std::string const& topic) const
{
    auto it = impl_->topics.find(topic);
    if (it == impl_->topics.end())
        return std::nullopt;
    return it->second.stream.last();
}

void redis_backplane::presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                                    presence_handler done)
{
    impl_->presence.join(topic, std::move(member), max_members, std::move(done));
}

void redis_backplane::presence_leave(std::string const& topic, std::string const& client)
{
    impl_->presence.leave(topic, client);
}

void redis_backplane::presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                                       presence_page_handler done)
{
    impl_->presence.members(topic, after, limit, std::move(done));
}

void redis_backplane::presence_stats(std::string const& topic, presence_counts_handler done)
{
    impl_->presence.stats(topic, std::move(done));
}

std::optional<presence_totals> redis_backplane::presence_size() const
{
    return impl_->presence.size();
}

void redis_backplane::close()
{
    impl_->close();
}

bool redis_backplane::connected() const noexcept
{
    return impl_->commands.is_ready() && impl_->pubsub.is_ready() && impl_->presence_listening;
}

void redis_backplane::set_history_options(history_options options)
{
    impl_->history = std::move(options);
}

std::size_t redis_backplane::subscribed_topics() const noexcept
{
    return static_cast<std::size_t>(std::count_if(impl_->topics.begin(), impl_->topics.end(),
                                                   [](auto const& t) { return t.second.state == impl::subscription::subscribed; }));
}

}  // namespace switchboard
