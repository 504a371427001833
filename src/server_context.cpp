#include "server_context.hpp"

#include "core/json_input.hpp"
#include "security/jwt_verifier.hpp"
#include "security/topic_permissions.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <functional>

namespace switchboard::detail {

server_context::server_context(boost::asio::any_io_executor ex, server_options const& opts, switchboard::hooks& h,
                               switchboard::hub& hb, switchboard::backplane& bp)
    : executor(ex),
      options(opts),
      hooks(h),
      hub(hb),
      backplane(bp),
      flusher(ex),
      // Fine enough that every interval is a few ticks, coarse enough to cost nothing.
      keepalive(ex, std::min({opts.sse_heartbeat, opts.ws_ping_interval, opts.ws_pong_timeout, std::chrono::milliseconds(4'000)}) / 4),
      jwt_(std::make_unique<jwt_verifier>(opts.security))
{
}

server_context::~server_context() = default;

void server_context::reload_security()
{
    try {
        jwt_ = std::make_unique<jwt_verifier>(options.security);
    } catch (std::exception const& e) {
        spdlog::error("reload: {}; keeping the previous JWT keys", e.what());
    }
}

boost::system::error_code server_context::take_message(channel_rate* own, identity const& who,
                                                       std::string const& address,
                                                       std::chrono::milliseconds& retry_after)
{
    auto const& s = options.security;
    auto const now = rate_clock::now();
    if (own && !own->bucket.take(s.channel_messages, now, retry_after))
        return error::rate_limited;
    std::string const* key = who.authenticated ? &who.user : (address.empty() ? nullptr : &address);
    if (key && !user_rates.take(who.authenticated ? "user:" + *key : "ip:" + *key, s.user_messages, s.max_rate_keys,
                                now, retry_after))
        return error::rate_limited;
    return {};
}

void server_context::authorize(authorize_request::kind action, std::string const& topic, identity_ptr who,
                               channel_ptr origin, std::string const& remote_address, decision done)
{
    bool const subscribing = action == authorize_request::kind::subscribe;
    bool const allowed = subscribing ? may_subscribe(options.security, *who, topic)
                                     : may_publish(options.security, *who, topic);
    if (!allowed)
        return done(error::forbidden);
    if (!hooks.authorize)
        return done({});
    // The hook may answer later and must answer once; the pointers it was given keep what they name alive.
    auto once = std::make_shared<decision>(std::move(done));
    decision_handler answer = [once, who, origin](boost::system::error_code ec) {
        if (!*once)
            return;
        auto finish = std::move(*once);
        *once = nullptr;
        finish(ec);
    };
    authorize_request request{action, topic, *who, origin.get(), remote_address};
    auto ec = guarded("authorize", [&] {
        hooks.authorize(request, answer);
        return boost::system::error_code{};
    });
    if (ec && *once) {
        auto finish = std::move(*once);
        *once = nullptr;
        finish(ec);
    }
}

namespace {

// Authorizes topics one after the other. Decisions usually come at once, so it loops rather than recursing
// (a request may name many topics); one that comes later resumes the loop.
struct authorize_chain : std::enable_shared_from_this<authorize_chain> {
    server_context& ctx;
    authorize_request::kind action;
    std::vector<std::string> topics;
    identity_ptr who;
    channel_ptr origin;
    std::string remote_address;
    std::function<void(boost::system::error_code, std::string const&)> done;
    std::size_t next = 0;
    bool pending = false;
    bool inside = false;
    bool failed = false;

    authorize_chain(server_context& c, authorize_request::kind a, std::vector<std::string> t, identity_ptr w,
                    channel_ptr o, std::string r, std::function<void(boost::system::error_code, std::string const&)> d)
        : ctx(c), action(a), topics(std::move(t)), who(std::move(w)), origin(std::move(o)),
          remote_address(std::move(r)), done(std::move(d))
    {
    }

    void run()
    {
        while (!failed) {
            if (next == topics.size())
                return done({}, std::string());
            std::size_t const i = next++;
            pending = true;
            inside = true;
            ctx.authorize(action, topics[i], who, origin, remote_address,
                          [self = shared_from_this(), i](boost::system::error_code ec) {
                              self->pending = false;
                              if (ec) {
                                  self->failed = true;
                                  return self->done(ec, self->topics[i]);
                              }
                              if (!self->inside)
                                  self->run();
                          });
            inside = false;
            if (pending)
                return;
        }
    }
};

}  // namespace

void server_context::authorize_all(authorize_request::kind action, std::vector<std::string> topics, identity_ptr who,
                                   channel_ptr origin, std::string const& remote_address,
                                   std::function<void(boost::system::error_code, std::string const&)> done)
{
    std::make_shared<authorize_chain>(*this, action, std::move(topics), std::move(who), std::move(origin),
                                      remote_address, std::move(done))
        ->run();
}

boost::system::error_code server_context::admit(std::string const& address, connection_slot& slot,
                                                std::chrono::milliseconds& retry_after)
{
    if (connections.total >= options.max_connections ||
        connections.at(address) >= options.max_connections_per_address)
        return error::too_many_connections;
    auto const& s = options.security;
    if (!address_rates.take(address, s.address_connections, s.max_rate_keys, rate_clock::now(), retry_after))
        return error::rate_limited;
    slot = connection_slot(connections, address);
    return {};
}

void log_hook_exception(char const* hook_name) noexcept
{
    try {
        throw;
    } catch (std::exception const& e) {
        spdlog::error("hook {} threw: {}", hook_name, e.what());
    } catch (...) {
        spdlog::error("hook {} threw a non-exception", hook_name);
    }
}

boost::system::error_code server_context::open(channel_ptr const& ch)
{
    if (stopping)
        return error::shutting_down;
    if (hooks.on_connect) {
        if (auto ec = guarded("on_connect", [&] { return hooks.on_connect(*ch); }))
            return ec;
    }
    channels.insert(ch);
    auto const t = transport_index(ch->transport());
    ++metrics.connections_opened[t];
    ++metrics.connections_open[t];
    spdlog::debug("channel {} open: {} from {}", ch->id(), ch->transport(), ch->remote_address());
    return {};
}

void server_context::closed(channel& ch, disconnect const& reason)
{
    if (hooks.on_unsubscribe && ch.subscription_count() > 0) {
        for (auto const& topic : ch.topics())
            guarded("on_unsubscribe", [&] {
                hooks.on_unsubscribe(ch, topic);
                return boost::system::error_code{};
            });
    }
    subscribes.drop(ch);
    hub.unsubscribe_all(ch);
    // Only channels that open() accepted are registered, and only those are announced as disconnected.
    auto const it = channels.find(ch.shared_from_this());
    if (it == channels.end())
        return;
    spdlog::debug("channel {} closed: {} ({})", ch.id(), reason.code, reason.reason);
    --metrics.connections_open[transport_index(ch.transport())];
    ++metrics.disconnects[disconnect_label(reason.code)];
    if (hooks.on_disconnect)
        guarded("on_disconnect", [&] {
            hooks.on_disconnect(ch, reason);
            return boost::system::error_code{};
        });
    channels.erase(it);
}

std::string server_context::client_key(identity const& who, std::string_view remote_address)
{
    if (who.authenticated)
        return "user:" + who.user;
    auto const colon = remote_address.rfind(':');
    return "ip:" + std::string(remote_address.substr(0, colon));
}

void server_context::subscribe(channel& ch, std::string const& topic, std::optional<position> const& since,
                               std::size_t max_bytes, subscribe_queue::authorization a, backplane::history_handler done)
{
    subscribes.subscribe(ch, topic, since, max_bytes, a, std::move(done));
}

backplane::publish_handler server_context::counted(backplane::publish_handler done)
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

bool server_context::unsubscribe(channel& ch, std::string const& topic)
{
    bool const subscribing = subscribes.cancel(ch, topic);
    if (!hub.unsubscribe(ch, topic))
        return subscribing;
    if (hooks.on_unsubscribe)
        guarded("on_unsubscribe", [&] {
            hooks.on_unsubscribe(ch, topic);
            return boost::system::error_code{};
        });
    return true;
}

void server_context::publish(std::string const& topic, std::string data, channel* origin,
                             std::string const& remote_address, backplane::publish_handler done)
{
    if (stopping)
        return done(error::shutting_down, {});
    if (!is_valid_topic(topic))
        return done(error::invalid_topic, {});
    if (hooks.on_publish) {
        publish_request request{topic, data, origin, remote_address};
        if (auto ec = guarded("on_publish", [&] { return hooks.on_publish(request); }))
            return done(ec, {});
        // What the hook put in its place passes the checks a client's data passed.
        if (auto why = request.replaced() ? payload_problem(data) : std::string(); !why.empty()) {
            spdlog::warn("on_publish replaced a message to {} with data that cannot be published: {}", topic, why);
            return done(error::invalid_json, {});
        }
    }
    if (data.size() > options.max_message_size)
        return done(error::message_too_large, {});
    backplane.publish(topic, std::move(data), counted(std::move(done)));
}

}  // namespace switchboard::detail
