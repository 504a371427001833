#include "channel_services.hpp"

#include "core/hook_guard.hpp"
#include "core/json_input.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace switchboard::detail {

channel_services::channel_services(boost::asio::any_io_executor ex, server_options const& opts,
                                   switchboard::hooks& h, switchboard::hub& hb, switchboard::backplane& bp)
    : executor(ex),
      options(opts),
      hub(hb),
      backplane(bp),
      flusher(ex, opts.io_uring),
      // Fine enough that every interval is a few ticks, coarse enough to cost nothing.
      keepalive(ex, std::min({opts.sse_heartbeat, opts.ws_ping_interval, opts.ws_pong_timeout, std::chrono::milliseconds(4'000)}) / 4),
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
    channels.insert(ch);
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
    hub.unsubscribe_all(ch);
    // Only channels that open() accepted are registered, and only those are announced as disconnected.
    auto const it = channels.find(ch.shared_from_this());
    if (it == channels.end())
        return;
    spdlog::debug("channel {} closed: {} ({})", ch.id(), reason.code, reason.reason);
    --metrics.connections_open[transport_index(ch.transport())];
    ++metrics.disconnects[disconnect_label(reason.code)];
    if (hooks_.on_disconnect)
        guarded("on_disconnect", [&] {
            hooks_.on_disconnect(ch, reason);
            return boost::system::error_code{};
        });
    channels.erase(it);
}

void channel_services::subscribe(channel& ch, std::string const& topic, std::optional<position> const& since,
                                 std::size_t max_bytes, subscribe_queue::authorization a,
                                 backplane::history_handler done)
{
    subscribes_.subscribe(ch, topic, since, max_bytes, a, std::move(done));
}

bool channel_services::unsubscribe(channel& ch, std::string const& topic)
{
    bool const subscribing = subscribes_.cancel(ch, topic);
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

void channel_services::publish(std::string const& topic, std::string data, channel* origin,
                               std::string const& remote_address, backplane::publish_handler done)
{
    if (stopping)
        return done(error::shutting_down, {});
    if (!is_valid_topic(topic))
        return done(error::invalid_topic, {});
    if (hooks_.on_publish) {
        // The data moves into the request and back out: the bytes the client sent, unless the hook replaced them.
        publish_request request{topic, std::move(data), origin ? origin->shared_from_this() : nullptr, remote_address};
        if (auto ec = guarded("on_publish", [&] { return hooks_.on_publish(request); }))
            return done(ec, {});
        bool const replaced = request.replaced();
        data = std::move(request).take_data();
        // What the hook put in its place passes the checks a client's data passed.
        if (auto why = replaced ? data_problem(data) : std::string(); !why.empty()) {
            spdlog::warn("on_publish replaced a message to {} with data that cannot be published: {}", topic, why);
            return done(error::invalid_json, {});
        }
    }
    if (payload_size(data) > options.max_message_size)
        return done(error::message_too_large, {});
    backplane.publish(topic, std::move(data), counted(std::move(done)));
}

}  // namespace switchboard::detail
