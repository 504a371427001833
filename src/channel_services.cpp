#include "channel_services.hpp"

#include "core/client_address.hpp"
#include "core/hook_guard.hpp"
#include "core/json_input.hpp"
#include "http/http_connection.hpp"
#include "long_polling/poll_channel.hpp"
#include "security/namespace_rules.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace switchboard::detail {

channel_services::channel_services(boost::asio::any_io_executor ex, server_options const& opts,
                                   switchboard::hooks& h, switchboard::hub& hb, switchboard::backplane& bp)
    : executor(ex),
      options(opts),
      hub(hb),
      backplane(bp),
      flusher(ex, opts.io_uring),
      idle(idle_watch::of(boost::asio::query(ex, boost::asio::execution::context))),
      // Fine enough that every interval is a few ticks, coarse enough to cost nothing.
      keepalive(ex, std::min({opts.sse_heartbeat, opts.ws_ping_interval, opts.ws_pong_timeout, std::chrono::milliseconds(4'000)}) / 4,
                channels),
      poll_holds(ex, &long_polling::poll_channel::expire),
      poll_parking(ex, &http_connection::expire),
      keep_alive_waits(ex, &http_connection::expire),
      authorizer(opts, h),
      hooks_(h),
      subscribes_(ex, opts, h, hb, bp,
                  [this](std::string const& topic, bool pattern, identity_ptr who, channel_ptr origin,
                         std::string const& remote_address, decision_handler done) {
                      authorizer.authorize(authorize_request::kind::subscribe, topic, std::move(who), std::move(origin),
                                           remote_address, std::move(done), pattern);
                  })
{
}

boost::system::error_code channel_services::open(channel_ptr const& ch)
{
    if (stopping)
        return error::shutting_down;
    if (hooks_.on_connect) {
        if (auto ec = guarded("on_connect", [&] { return hooks_.on_connect(*ch); }))
            return ec;
    }
    channels.add(ch);
    auto const t = transport_index(ch->transport());
    ++metrics.connections_opened[t];
    ++metrics.connections_open[t];
    spdlog::debug("channel {} open: {} from {}", ch->id(), ch->transport(), ch->remote_address());
    return {};
}

void channel_services::closed(channel& ch, disconnect const& reason)
{
    if (hooks_.on_unsubscribe && ch.subscription_count() + ch.pattern_count() > 0) {
        for (auto const& names : {ch.topics(), ch.patterns()})
            for (auto const& name : names)
                guarded("on_unsubscribe", [&] {
                    hooks_.on_unsubscribe(ch, name);
                    return boost::system::error_code{};
                });
    }
    subscribes_.drop(ch);
    if (!ch.presence_topics().empty())
        linger(ch);
    hub.unsubscribe_all(ch);
    // Only channels that open() accepted are registered, and only those are announced as disconnected.
    if (!channels.contains(ch))
        return;
    spdlog::debug("channel {} closed: {} ({})", ch.id(), reason.code, reason.reason);
    --metrics.connections_open[transport_index(ch.transport())];
    ++metrics.disconnects[disconnect_label(reason.code)];
    if (hooks_.on_disconnect)
        guarded("on_disconnect", [&] {
            hooks_.on_disconnect(ch, reason);
            return boost::system::error_code{};
        });
    channels.remove(ch);
}

void channel_services::subscribe(channel& ch, std::string const& topic, std::optional<position> const& since,
                                 std::size_t max_bytes, subscribe_queue::authorization a,
                                 subscribe_queue::subscribe_handler done)
{
    subscribes_.subscribe(ch, topic, since, max_bytes, a, std::move(done));
}

bool channel_services::unsubscribe(channel& ch, std::string const& topic)
{
    bool const subscribing = subscribes_.cancel(ch, topic);
    leave_presence(ch, topic);
    if (!hub.unsubscribe(ch, topic))
        return subscribing;
    if (hooks_.on_unsubscribe)
        guarded("on_unsubscribe", [&] {
            hooks_.on_unsubscribe(ch, topic);
            return boost::system::error_code{};
        });
    return true;
}

void channel_services::subscribe_pattern(channel& ch, std::string const& pattern, std::optional<position> const& since,
                                         std::size_t max_bytes, subscribe_queue::authorization a,
                                         subscribe_queue::pattern_handler done)
{
    subscribes_.subscribe_pattern(ch, pattern, since, max_bytes, a, std::move(done));
}

bool channel_services::unsubscribe_pattern(channel& ch, std::string const& pattern)
{
    bool const subscribing = subscribes_.cancel_pattern(ch, pattern);
    if (!hub.unsubscribe_pattern(ch, pattern))
        return subscribing;
    if (hooks_.on_unsubscribe)
        guarded("on_unsubscribe", [&] {
            hooks_.on_unsubscribe(ch, pattern);
            return boost::system::error_code{};
        });
    return true;
}

std::string channel_services::pattern_refusal(std::string_view pattern) const
{
    if (auto why = pattern_problem(pattern); !why.empty())
        return why;
    if (!backplane.delivers_patterns())
        return std::string("pattern subscriptions are not supported over the ") + backplane.name() + " backplane";
    return {};
}

namespace {

// 128 bits from the system's random source, in hex: client ids are public, keys are secrets, and neither may be
// guessed from others (a seeded generator's next output can be, from enough of its previous ones).
std::string random_hex()
{
    static std::random_device source;
    std::string out;
    out.reserve(32);
    char const* digits = "0123456789abcdef";
    for (int word = 0; word < 4; ++word) {
        auto v = static_cast<std::uint32_t>(source());
        for (int i = 0; i < 8; ++i, v >>= 4)
            out += digits[v & 0xF];
    }
    return out;
}

}  // namespace

void channel_services::join_presence(channel& ch, std::string const& topic, std::string const& resume,
                                     backplane::presence_handler done)
{
    if (!backplane.supports_presence() || presence_refused(options.namespaces, topic))
        return done(error::presence_unavailable);
    if (ch.present_in(topic))
        return done({});
    presence_member member;
    auto const& who = ch.identity();
    member.user = who.authenticated ? who.user : std::string();
    if (auto claim = who.claims.find("presence"); claim != who.claims.end())
        member.info = claim->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (member.info.size() > options.presence.max_info_bytes)
        return done(error::message_too_large);

    if (ch.presence_client().empty()) {
        // A client coming back within the grace proves it is the member that left by its key (a secret only
        // that client was given) and its user; anything else makes a new member.
        auto it = resume.empty() ? lingering_.end() : lingering_.find(resume);
        if (it != lingering_.end() && it->second.user == member.user &&
            it->second.authenticated == who.authenticated)
            ch.set_presence_identity(it->second.client, resume);
        else
            ch.set_presence_identity(random_hex(), random_hex());
    }
    member.client = ch.presence_client();
    if (auto it = lingering_.find(ch.presence_key()); it != lingering_.end()) {
        auto& topics = it->second.topics;
        if (auto t = std::find(topics.begin(), topics.end(), topic); t != topics.end()) {
            // Still a member: nobody saw it leave, nobody sees it join.
            topics.erase(t);
            if (topics.empty())
                forget(it);
            ch.set_present(topic, true);
            return done({});
        }
    }
    auto self = ch.shared_from_this();
    backplane.presence_join(topic, std::move(member), options.presence.max_members,
                            [this, self, topic, done = std::move(done)](boost::system::error_code ec) {
                                if (!ec && (self->closing() || !hub.subscribed(*self, topic))) {
                                    // Gone while the backplane answered: not a member any more.
                                    backplane.presence_leave(topic, self->presence_client());
                                    return done(error::unsubscribed);
                                }
                                if (!ec)
                                    self->set_present(topic, true);
                                done(ec);
                            });
}

namespace {

void join_from(channel_services& services, std::shared_ptr<channel> const& ch,
               std::shared_ptr<std::vector<std::string> const> const& topics, std::size_t i,
               std::string const& resume, backplane::presence_handler done)
{
    if (i == topics->size())
        return done({});
    services.join_presence(*ch, (*topics)[i], resume,
                           [&services, ch, topics, i, resume, done](boost::system::error_code ec) {
                               if (ch->closing())
                                   return;
                               if (ec) {
                                   for (std::size_t j = 0; j < i; ++j)
                                       services.leave_presence(*ch, (*topics)[j]);
                                   return done(ec);
                               }
                               join_from(services, ch, topics, i + 1, resume, done);
                           });
}

}  // namespace

void channel_services::join_presence_all(std::shared_ptr<channel> const& ch, std::vector<std::string> topics,
                                         std::string const& resume, backplane::presence_handler done)
{
    join_from(*this, ch, std::make_shared<std::vector<std::string> const>(std::move(topics)), 0, resume,
              std::move(done));
}

void channel_services::leave_presence(channel& ch, std::string const& topic)
{
    if (!ch.present_in(topic))
        return;
    ch.set_present(topic, false);
    backplane.presence_leave(topic, ch.presence_client());
}

void channel_services::linger(channel& ch)
{
    auto topics = ch.presence_topics();
    for (auto const& topic : topics)
        ch.set_present(topic, false);
    std::string address(client_ip(ch.remote_address()));
    auto const known = lingering_.find(ch.presence_key());
    bool const over_budget = known == lingering_.end() &&
                             lingering_per_address_[address] >= options.max_connections_per_address;
    if (stopping || options.presence.grace.count() <= 0 || ch.presence_key().empty() || over_budget) {
        if (lingering_per_address_[address] == 0)
            lingering_per_address_.erase(address);
        for (auto const& topic : topics)
            backplane.presence_leave(topic, ch.presence_client());
        return;
    }
    // Still present for the grace: a client that comes back with its key takes the entries over. A key already
    // lingering (this channel had taken it over) gathers both channels' topics under one new grace.
    auto& entry = lingering_[ch.presence_key()];
    if (known == lingering_.end()) {
        entry.address = address;
        ++lingering_per_address_[address];
    }
    entry.client = ch.presence_client();
    entry.user = ch.identity().authenticated ? ch.identity().user : std::string();
    entry.authenticated = ch.identity().authenticated;
    entry.topics.insert(entry.topics.end(), topics.begin(), topics.end());
    if (!entry.timer)
        entry.timer = std::make_unique<boost::asio::steady_timer>(executor);
    entry.timer->expires_after(options.presence.grace);
    entry.timer->async_wait([this, key = ch.presence_key()](boost::system::error_code ec) {
        if (!ec)
            expire(key);
    });
}

void channel_services::expire(std::string const& key)
{
    auto it = lingering_.find(key);
    if (it == lingering_.end())
        return;
    auto const client = it->second.client;
    auto const topics = std::move(it->second.topics);
    forget(it);
    for (auto const& topic : topics)
        backplane.presence_leave(topic, client);
}

void channel_services::forget(std::unordered_map<std::string, lingering>::iterator it)
{
    if (auto n = lingering_per_address_.find(it->second.address); n != lingering_per_address_.end() && --n->second == 0)
        lingering_per_address_.erase(n);
    lingering_.erase(it);
}

void channel_services::end_presence()
{
    for (auto const& ch : channels)
        if (!ch->presence_topics().empty())
            linger(*ch);  // stopping: they leave at once
    auto all = std::move(lingering_);
    lingering_.clear();
    lingering_per_address_.clear();
    for (auto& [key, entry] : all) {
        entry.timer->cancel();
        for (auto const& topic : entry.topics)
            backplane.presence_leave(topic, entry.client);
    }
}

std::size_t channel_services::lingering_members() const noexcept
{
    std::size_t n = 0;
    for (auto const& [key, entry] : lingering_)
        n += entry.topics.size();
    return n;
}

backplane::publish_handler channel_services::counted(backplane::publish_handler done)
{
    return [this, started = std::chrono::steady_clock::now(), done = std::move(done)](boost::system::error_code ec,
                                                                                     position where) {
        if (!ec) {
            ++metrics.messages_published;
            metrics.publish_latency.observe(std::chrono::steady_clock::now() - started);
        }
        if (done)
            done(ec, std::move(where));
    };
}

void channel_services::publish(std::string const& topic, std::string data, channel* origin, identity_ptr who,
                               std::string const& remote_address, publish_options publishing, publish_answer done)
{
    if (stopping)
        return done(error::shutting_down, {}, {});
    if (!is_valid_topic(topic))
        return done(error::invalid_topic, {}, {});
    if (!publishing.idempotency_key.empty() && !is_valid_idempotency_key(publishing.idempotency_key))
        return done(error::invalid_idempotency_key, {}, {});
    if (hooks_.on_publish) {
        // The data moves into the request and back out: the bytes the client sent, unless the hook replaced them.
        publish_request request{topic, std::move(data), origin ? origin->shared_from_this() : nullptr, remote_address};
        request.who = who;
        if (auto ec = guarded("on_publish", [&] { return hooks_.on_publish(request); }))
            return done(ec, {}, {});
        bool const replaced = request.replaced();
        data = std::move(request).take_data();
        // What the hook put in its place passes the checks a client's data passed.
        if (auto why = replaced ? data_problem(data) : std::string(); !why.empty()) {
            spdlog::warn("on_publish replaced a message to {} with data that cannot be published: {}", topic, why);
            return done(error::invalid_json, {}, {});
        }
    }
    if (!hooks_.moderate)
        return publish_decided(topic, std::move(data), std::move(publishing), std::move(done));

    // The hook may answer later (a backend's answer) and must answer once. Its request is its own to keep.
    auto request = std::make_shared<publish_request>(topic, std::move(data),
                                                     origin ? origin->shared_from_this() : nullptr, remote_address);
    request->who = std::move(who);
    auto once = std::make_shared<publish_answer>(std::move(done));
    decision_handler answer = [this, request, once, publishing = std::move(publishing)](boost::system::error_code ec,
                                                                                      std::string reason) mutable {
        if (!*once)
            return;
        auto finish = std::move(*once);
        *once = nullptr;
        if (ec)
            return finish(ec, {}, reason);
        if (stopping)
            return finish(error::shutting_down, {}, {});
        bool const replaced = request->replaced();
        auto data = std::move(*request).take_data();
        if (auto why = replaced ? data_problem(data) : std::string(); !why.empty()) {
            spdlog::warn("moderate replaced a message to {} with data that cannot be published: {}", request->topic,
                         why);
            return finish(error::invalid_json, {}, {});
        }
        // A later turn: the client whose publish this is is charged again for a topic it makes.
        auto const charged = backplane.on_behalf_of(client_key(*request->who, request->remote_address));
        publish_decided(request->topic, std::move(data), std::move(publishing), std::move(finish));
    };
    auto ec = guarded("moderate", [&] {
        hooks_.moderate(request, answer);
        return boost::system::error_code{};
    });
    if (ec && *once) {
        auto finish = std::move(*once);
        *once = nullptr;
        finish(ec, {}, {});
    }
}

void channel_services::publish_decided(std::string const& topic, std::string data, publish_options publishing,
                                       publish_answer done)
{
    if (payload_size(data) > options.max_message_size)
        return done(error::message_too_large, {}, {});
    backplane.publish(topic, std::move(data), std::move(publishing),
                      counted([done = std::move(done)](boost::system::error_code ec, position where) {
                          done(ec, where, {});
                      }));
}

}  // namespace switchboard::detail
