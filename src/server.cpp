#include <switchboard/error.hpp>
#include <switchboard/hub_view.hpp>
#include <switchboard/memory_backplane.hpp>
#include <switchboard/server.hpp>
#include <switchboard/topic.hpp>

#include "ops/admin.hpp"
#include "ops/api.hpp"
#include "ops/api_routes.hpp"
#include "http/client_route.hpp"
#include "http/http_connection.hpp"
#include "http2/h2_connection.hpp"
#include "http/service_route.hpp"
#include "core/base64.hpp"
#include "core/json_input.hpp"
#include "listener_channel.hpp"
#include "long_polling/long_polling_transport.hpp"
#include "ops/ops_routes.hpp"
#include "proxy/proxy_hooks.hpp"
#include "http/presence_route.hpp"
#include "http/publish_route.hpp"
#include "core/hook_guard.hpp"
#include "core/interest_linger.hpp"
#include "core/presence_relay.hpp"
#include "security/namespace_rules.hpp"
#include "server_context.hpp"
#include "sse/sse_transport.hpp"
#include "http/tls_context.hpp"
#include "websocket/websocket_transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace switchboard {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct server::impl {
    impl(asio::io_context* owned, asio::io_context& io, server_options opts, backplane_factory const& make_backplane)
        : owned_ioc(owned),
          ioc(io),
          options(std::move(opts)),
          bp(make(make_backplane, io.get_executor(), options.history)),
          topic_linger(io.get_executor(), linger_for(options, *bp), max_lingering,
                       [this](std::string const& topic) { bp->unsubscribe(topic); }),
          pattern_linger(io.get_executor(), linger_for(options, *bp), max_lingering,
                         [this](std::string const& pattern) { bp->unsubscribe_pattern(pattern); }),
          presence(io.get_executor(), options.presence, hub, *bp),
          ctx(io.get_executor(), options, hooks, hub, *bp),
          admin(ctx, &sse::open_event_stream),
          service_routes(io.get_executor()),
          acceptor(io),
          accept_retry(io),
          lag_probe(io)
    {
        hub.on_interest(
            [this](std::string const& topic) {
                if (!topic_linger.take_back(topic))
                    bp->subscribe(topic);
            },
            [this](std::string const& topic) { topic_linger.let_go(topic); });
        hub.on_pattern_interest(
            [this](std::string const& pattern) {
                if (!pattern_linger.take_back(pattern))
                    bp->subscribe_pattern(pattern);
            },
            [this](std::string const& pattern) { pattern_linger.let_go(pattern); });
        bp->set_delivery([this](message_ptr const& m) {
            hub.deliver(m);
            ctx.flusher.note_published(m->published_at());
        });
        bp->set_presence_delivery([this](presence_event_ptr const& e) {
            // A namespace with join_leave off keeps its members (snapshots, counts) but tells nobody of them.
            if (detail::join_leave_delivered(options.namespaces, e->topic()))
                presence.relay(e);
        });
        bp->set_gap([this](std::string const& topic) {
            // Pattern subscribers of the topic too: they missed its messages as well (they cannot resume yet,
            // but a closed connection tells them, where a silent hole would not). A pattern: its subscribers.
            bool const pattern = is_valid_pattern(topic);
            auto subscribers = pattern ? hub.subscribers_of_pattern(topic) : hub.subscribers(topic);
            for (auto& ch : pattern ? std::vector<channel_ptr>{} : hub.pattern_subscribers(topic))
                if (std::find(subscribers.begin(), subscribers.end(), ch) == subscribers.end())
                    subscribers.push_back(std::move(ch));
            spdlog::warn("topic {}: messages may be lost; closing its {} subscribers so they resume", topic,
                         subscribers.size());
            for (auto const& ch : subscribers)
                ch->close(disconnect::stream_gap());
        });
        ctx.tls = detail::make_tls_context(options);  // throws, naming the file, when it cannot be used
        ctx.flusher.observe = [this](std::chrono::steady_clock::duration d) { ctx.metrics.delivery_latency.observe(d); };
        ctx.start_http2 = [this](detail::connection_stream&& stream, detail::connection_slot&& slot, std::string read,
                                 detail::packed_address remote_address) {
            std::make_shared<detail::h2_connection>(std::move(stream), std::move(slot), std::move(read), ctx,
                                                    std::move(remote_address))
                ->start();
        };
        ctx.routes[options.websocket_path] = when_enabled(&enabled_transports::websocket, websocket::make_route(ctx));
        ctx.routes[options.sse_path] = when_enabled(&enabled_transports::sse, sse::make_route(ctx));
        ctx.routes[options.poll_path] = when_enabled(&enabled_transports::long_polling, long_polling::make_route(ctx));
        ctx.routes[options.publish_path] = detail::make_publish_route(ctx);
        if (!options.presence.path.empty())
            ctx.routes[options.presence.path] = detail::make_presence_route(ctx);
        if (!options.client_path.empty())
            ctx.routes[options.client_path] = detail::make_client_route(ctx);
        for (auto const& [path, make] : {std::pair{options.metrics_path, &detail::make_metrics_route},
                                         std::pair{options.health_path, &detail::make_health_route},
                                         std::pair{options.ready_path, &detail::make_ready_route}})
            if (!path.empty())
                ctx.routes[path] = make(ctx);
        if (!options.admin_token.empty()) {
            ctx.routes["/admin"] = admin.page_route();
            ctx.routes["/admin/events"] = admin.events_route();
            ctx.routes["/admin/disconnect"] = admin.disconnect_route();
        }
        detail::add_api_routes(ctx.routes, ctx);
    }

    // A backplane that hands every topic to every node (the memory one) saves nothing by following a topic a
    // while longer, and its idle topics give their room to new ones at once: no linger there.
    static std::chrono::milliseconds linger_for(server_options const& o, switchboard::backplane const& b)
    {
        return b.delivers_every_topic() ? std::chrono::milliseconds(0) : o.topic_linger;
    }

    static std::unique_ptr<switchboard::backplane> make(backplane_factory const& factory, asio::any_io_executor ex,
                                                        history_options const& history)
    {
        auto made = factory ? factory(ex) : nullptr;
        return made ? std::move(made) : std::make_unique<memory_backplane>(std::move(ex), history);
    }

    // A publish from C++ (any thread): `text` is JSON text to deliver as it is, unless `refused` says why not.
    void publish(std::string topic, std::string text, boost::system::error_code refused, publish_handler done,
                 publish_options publishing = {})
    {
        if (!publishing.idempotency_key.empty() && !is_valid_idempotency_key(publishing.idempotency_key))
            refused = error::invalid_idempotency_key;
        asio::post(ioc, [this, topic = std::move(topic), text = std::move(text), refused, done = std::move(done),
                         publishing = std::move(publishing)]() mutable {
            auto finish = [done = std::move(done)](boost::system::error_code ec, position where) {
                if (!done)
                    return;
                try {
                    done(ec, std::move(where));
                } catch (...) {
                    detail::log_hook_exception("publish's done");
                }
            };
            if (ctx.stopping)
                return finish(error::shutting_down, {});
            if (!is_valid_topic(topic))
                return finish(error::invalid_topic, {});
            if (refused)
                return finish(refused, {});
            if (text.size() > options.max_message_size)
                return finish(error::message_too_large, {});
            bp->publish(std::move(topic), std::move(text), std::move(publishing), ctx.counted(std::move(finish)));
        });
    }

    // A transport turned off answers 503 transport_disabled; read on each request, so reload() turns it on or off.
    detail::route when_enabled(bool enabled_transports::*which, detail::route r)
    {
        r.action = [this, which, next = std::move(r.action)](std::shared_ptr<detail::exchange> const& conn) {
            if (!(options.transports.*which))
                return conn->respond_error(error::transport_disabled);
            next(conn);
        };
        return r;
    }

    void add_route(std::string path, detail::route r)
    {
        if (ctx.routes.contains(path))
            throw std::invalid_argument("switchboard: path already routed: " + path);
        ctx.routes[std::move(path)] = std::move(r);
    }

    void accept();
    void probe_lag();
    void stop_on_loop();

    // First, so it is destroyed last: the acceptor and timers below deregister from its services. (The server
    // is destroyed after its loop ran dry, so no handler is left in it that points into this state.)
    std::unique_ptr<asio::io_context> owned_ioc;
    asio::io_context& ioc;
    server_options options;
    switchboard::hooks hooks;
    switchboard::hub hub;
    std::unique_ptr<switchboard::backplane> bp;
    // Names that linger past their last subscriber (options.topic_linger), at most this many of each kind.
    static constexpr std::size_t max_lingering = 16'384;
    detail::interest_linger topic_linger;
    detail::interest_linger pattern_linger;
    detail::presence_relay presence;
    detail::server_context ctx;
    detail::admin_view admin;
    detail::service_routes service_routes;
    std::unordered_set<channel_ptr> listeners;  // server::subscribe's, open
    tcp::acceptor acceptor;
    asio::steady_timer accept_retry;
    asio::steady_timer lag_probe;
    bool started = false;
    bool stopped = false;
};

void server::impl::accept()
{
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || stopped)
            return;
        if (ec) {
            // Out of descriptors, typically: keep the listener, try again shortly rather than spin.
            spdlog::warn("accept failed: {}", ec.message());
            accept_retry.expires_after(std::chrono::milliseconds(100));
            accept_retry.async_wait([this](boost::system::error_code e) {
                if (!e && !stopped)
                    accept();
            });
            return;
        }
        std::make_shared<detail::http_connection>(std::move(socket), ctx)->start();
        accept();
    });
}

void server::impl::probe_lag()
{
    // A timer's lateness is the time its handler waited behind others: the loop's backlog.
    static constexpr auto period = std::chrono::milliseconds(500);
    auto const due = std::chrono::steady_clock::now() + period;
    lag_probe.expires_at(due);
    lag_probe.async_wait([this, due](boost::system::error_code ec) {
        if (ec || stopped)
            return;
        ctx.metrics.loop_lag.observe(std::chrono::steady_clock::now() - due);
        probe_lag();
    });
}

void server::impl::stop_on_loop()
{
    if (stopped)
        return;
    stopped = true;
    ctx.stopping = true;
    spdlog::info("stopping: closing {} channels", ctx.channels.size());
    boost::system::error_code ec;
    acceptor.close(ec);
    accept_retry.cancel();
    lag_probe.cancel();
    ctx.keepalive.stop();
    // Before the channels close: the topics they leave are released at once, and no timer keeps the loop.
    topic_linger.stop();
    pattern_linger.stop();
    admin.stop();
    ctx.end_presence();
    // close() unregisters, so walk a copy.
    std::vector<channel_ptr> open(ctx.channels.begin(), ctx.channels.end());
    open.insert(open.end(), listeners.begin(), listeners.end());
    for (auto& ch : open)
        ch->close(disconnect::shutdown());
    std::vector<detail::http_connection*> idle(ctx.http_connections.begin(), ctx.http_connections.end());
    for (auto* conn : idle)
        conn->close_if_idle();
    std::vector<detail::h2_connection*> h2(ctx.h2_connections.begin(), ctx.h2_connections.end());
    for (auto* conn : h2)
        conn->go_away();
    service_routes.stop();
    presence.stop();
    bp->close();
}

server::server(asio::io_context& ioc, server_options options)
    : impl_(std::make_unique<impl>(nullptr, ioc, std::move(options), nullptr))
{
}

server::server(asio::io_context& ioc, server_options options, std::unique_ptr<switchboard::backplane> bp)
    : impl_(std::make_unique<impl>(nullptr, ioc, std::move(options),
                                   [&bp](asio::any_io_executor) { return std::move(bp); }))
{
}

server::server(server_options options) : server(std::move(options), nullptr) {}

server::server(server_options options, backplane_factory const& make_backplane)
{
    auto owned = std::make_unique<asio::io_context>(1);
    auto& ioc = *owned;
    impl_ = std::make_unique<impl>(owned.release(), ioc, std::move(options), make_backplane);
}

server::~server() = default;

hooks& server::hooks() noexcept
{
    return impl_->hooks;
}

void server::route(std::string path, route_options const& options, async_route_handler handler)
{
    impl_->add_route(std::move(path), impl_->service_routes.make(options, std::move(handler)));
}

void server::route(std::string path, route_handler handler)
{
    impl_->add_route(std::move(path), impl_->service_routes.make(std::move(handler)));
}

void server::start()
{
    auto& i = *impl_;
    if (i.started)
        throw std::logic_error("switchboard: server already started");
    std::unordered_set<std::string_view> names;
    for (auto const& ns : i.options.namespaces) {
        if (auto why = namespace_name_problem(ns.name); !why.empty())
            throw std::invalid_argument("switchboard: namespace \"" + ns.name + "\": " + why);
        if (!names.insert(ns.name).second)
            throw std::invalid_argument("switchboard: namespace \"" + ns.name + "\" is given twice");
    }
    if (detail::proxy_configured(i.options.proxy, i.options.namespaces))
        detail::install_proxy_hooks(i.hooks, i.options.proxy, i.options.namespaces, i.ioc.get_executor());
    tcp::endpoint const ep{asio::ip::make_address(i.options.address), i.options.port};
    i.acceptor.open(ep.protocol());
    i.acceptor.set_option(asio::socket_base::reuse_address(true));
    if (i.options.reuse_port)
        i.acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    i.acceptor.bind(ep);
    i.acceptor.listen(asio::socket_base::max_listen_connections);
    i.started = true;
    auto const bound = i.acceptor.local_endpoint();
    spdlog::info("listening on {}:{}{}", bound.address().to_string(), bound.port(),
                 !i.ctx.tls ? "" : i.options.tls_only ? " (TLS only)" : " (TLS and plain HTTP)");
    i.accept();
    i.probe_lag();
}

tcp_endpoint server::local_endpoint() const
{
    return impl_->acceptor.local_endpoint();
}

void server::run()
{
    if (!impl_->owned_ioc)
        throw std::logic_error("switchboard: run() is for a server that owns its io_context");
    // Nothing is meant to escape a completion handler (hooks, routes and done handlers are guarded where they are
    // called). One that does is a bug, and it ends that handler only: what the handler held, often one connection,
    // is released as the exception unwinds it, and Asio lets run() go on after a throw. Letting it end the process
    // would drop every client for the one who reached the bug.
    for (;;) {
        try {
            impl_->ioc.run();
            return;
        } catch (...) {
            ++impl_->ctx.metrics.handler_exceptions;
            detail::log_hook_exception("a completion handler");
        }
    }
}

void server::stop()
{
    asio::post(impl_->ioc, [i = impl_.get()] { i->stop_on_loop(); });
}

void server::reload(server_options next)
{
    asio::post(impl_->ioc, [i = impl_.get(), next = std::move(next)]() mutable {
        auto& current = i->options;
        // What the listener and the route table were built from stays.
        next.address = current.address;
        next.port = current.port;
        next.websocket_path = current.websocket_path;
        next.sse_path = current.sse_path;
        next.poll_path = current.poll_path;
        next.publish_path = current.publish_path;
        next.presence.path = current.presence.path;
        next.client_path = current.client_path;
        next.metrics_path = current.metrics_path;
        next.health_path = current.health_path;
        next.ready_path = current.ready_path;
        next.admin_token = current.admin_token;
        next.api_key = current.api_key;
        // A certificate renewed on disk is picked up here; new connections use it, open ones keep theirs.
        try {
            i->ctx.tls = detail::make_tls_context(next);
        } catch (std::exception const& e) {
            spdlog::error("configuration reload: {}; TLS keeps the previous certificate", e.what());
            next.tls_cert_file = current.tls_cert_file;
            next.tls_key_file = current.tls_key_file;
        }
        current = std::move(next);
        i->ctx.authorizer.reload();
        i->bp->set_history_options(current.history);
        spdlog::info("configuration reloaded");
    });
}

void server::presence(std::string topic, std::string after, std::size_t limit,
                      std::function<void(boost::system::error_code, presence_page)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), topic = std::move(topic), after = std::move(after), limit,
                            done = detail::guarded_handler("presence's done", std::move(done))]() mutable {
        if (!is_valid_topic(topic))
            return done(error::invalid_topic, {});
        i->bp->presence_members(topic, after, std::min(limit, i->options.presence.max_page), std::move(done));
    });
}

void server::presence_stats(std::string topic, std::function<void(boost::system::error_code, presence_counts)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), topic = std::move(topic),
                            done = detail::guarded_handler("presence_stats's done", std::move(done))]() mutable {
        if (!is_valid_topic(topic))
            return done(error::invalid_topic, {});
        i->bp->presence_stats(topic, std::move(done));
    });
}

void server::publish(std::string topic, nlohmann::json const& data, publish_handler done)
{
    // Serialized on the caller's thread, so the loop only queues bytes.
    impl_->publish(std::move(topic), data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {},
                   std::move(done));
}

void server::publish(std::string topic, nlohmann::json const& data, publish_options options, publish_handler done)
{
    impl_->publish(std::move(topic), data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {},
                   std::move(done), std::move(options));
}

void server::publish_text(std::string topic, std::string json_text, publish_handler done)
{
    // Checked on the caller's thread, so the loop only queues bytes.
    boost::system::error_code refused;
    if (auto why = detail::payload_problem(json_text); !why.empty()) {
        spdlog::debug("publish_text to {} refused: {}", topic, why);
        refused = error::invalid_json;
    }
    impl_->publish(std::move(topic), std::move(json_text), refused, std::move(done));
}

void server::publish_binary(std::string topic, std::string_view bytes, publish_handler done)
{
    impl_->publish(std::move(topic), std::string(message::binary_prefix) + detail::base64_encode(bytes), {},
                   std::move(done));
}

subscription server::subscribe(std::string topic, message_handler on_message, subscribe_options options)
{
    auto& i = *impl_;
    auto listener = std::make_shared<detail::listener_channel>(
        i.ctx, std::move(topic), std::move(on_message), std::move(options),
        [&i](detail::listener_channel& l) { i.listeners.erase(l.shared_from_this()); });
    i.listeners.insert(listener);
    listener->start();
    return subscription(listener);
}

void server::broadcast(std::vector<std::string> topics, std::string json_text,
                       std::function<void(std::vector<broadcast_result>)> done)
{
    broadcast(std::move(topics), std::move(json_text), publish_options{}, std::move(done));
}

void server::broadcast(std::vector<std::string> topics, std::string json_text, publish_options options,
                       std::function<void(std::vector<broadcast_result>)> done)
{
    // Checked on the caller's thread, as publish_text's.
    auto why = detail::payload_problem(json_text);
    asio::post(impl_->ioc, [i = impl_.get(), topics = std::move(topics), text = std::move(json_text),
                            refused = !why.empty(), options = std::move(options), done = std::move(done)]() mutable {
        auto finish = [&done](std::vector<broadcast_result> r) {
            if (!done)
                return;
            try {
                done(std::move(r));
            } catch (...) {
                detail::log_hook_exception("broadcast's done");
            }
        };
        if (refused) {
            std::vector<broadcast_result> r;
            for (auto& t : topics)
                r.push_back({std::move(t), error::invalid_json, {}});
            return finish(std::move(r));
        }
        detail::broadcast(i->ctx, topics, text, options, std::move(finish));
    });
}

void server::history(std::string topic, std::optional<position> since, std::size_t max_bytes,
                     std::function<void(boost::system::error_code, history_result)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), topic = std::move(topic), since = std::move(since), max_bytes,
                            done = detail::guarded_handler("history's done", std::move(done))]() mutable {
        if (!is_valid_topic(topic))
            return done(error::invalid_topic, {});
        i->bp->history(topic, since, max_bytes, std::move(done));
    });
}

void server::channels_of_user(std::string user, std::function<void(std::vector<channel_info>)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), user = std::move(user),
                            done = detail::guarded_handler("channels_of_user's done", std::move(done))]() mutable {
        detail::channels_of_user(i->ctx, std::move(user), std::move(done));
    });
}

void server::disconnect_user(std::string user, disconnect reason, std::function<void(std::size_t)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), user = std::move(user), reason = std::move(reason),
                            done = detail::guarded_handler("disconnect_user's done", std::move(done))]() mutable {
        detail::disconnect_user(i->ctx, std::move(user), std::move(reason), std::move(done));
    });
}

void server::disconnect_channel(std::uint64_t id, disconnect reason, std::function<void(std::size_t)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), id, reason = std::move(reason),
                            done = detail::guarded_handler("disconnect_channel's done", std::move(done))]() mutable {
        detail::disconnect_channel(i->ctx, id, std::move(reason), std::move(done));
    });
}

void server::unsubscribe_channel(std::uint64_t id, std::string topic, std::function<void(std::size_t)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), id, topic = std::move(topic),
                            done = detail::guarded_handler("unsubscribe_channel's done", std::move(done))]() mutable {
        detail::unsubscribe_channel(i->ctx, id, std::move(topic), std::move(done));
    });
}

void server::topics(std::function<void(std::vector<topic_count>)> done)
{
    asio::post(impl_->ioc, [i = impl_.get(), done = detail::guarded_handler("topics' done", std::move(done))]() mutable {
        detail::topics(i->ctx, std::move(done));
    });
}

hub_view server::hub() const noexcept
{
    return hub_view(impl_->hub);
}

backplane& server::backplane() noexcept
{
    return *impl_->bp;
}

void server::set_loops(std::vector<server*> loops)
{
    auto& home = *impl_;
    if (loops.size() < 2) {
        home.ctx.gather_metrics = nullptr;
        home.ctx.visit_loops = nullptr;
        return;
    }
    std::vector<impl*> peers;
    for (auto* s : loops)
        peers.push_back(s->impl_.get());
    home.ctx.visit_loops = [&home, peers](detail::server_context::loop_visit visit, std::function<void()> done) {
        // Each loop is visited on its own thread; what it returns runs back here, then `done` once.
        struct visiting {
            explicit visiting(asio::io_context& io) : deadline(io) {}
            std::size_t remaining = 0;
            bool answered = false;
            asio::steady_timer deadline;
            std::function<void()> done;
        };
        auto v = std::make_shared<visiting>(home.ioc);
        v->remaining = peers.size();
        v->done = std::move(done);
        v->deadline.expires_after(std::chrono::seconds(2));
        v->deadline.async_wait([v](boost::system::error_code ec) {
            if (ec || v->answered)
                return;
            v->answered = true;
            spdlog::warn("{} loops did not answer in time; left out", v->remaining);
            v->done();
        });
        auto shared_visit = std::make_shared<detail::server_context::loop_visit const>(std::move(visit));
        for (std::size_t n = 0; n < peers.size(); ++n) {
            auto* peer = peers[n];
            asio::post(peer->ioc, [peer, v, n, shared_visit, &home] {
                auto back = (*shared_visit)(peer->ctx, n);
                asio::post(home.ioc, [v, back = std::move(back)] {
                    if (v->answered)
                        return;
                    back();
                    if (--v->remaining > 0)
                        return;
                    v->answered = true;
                    v->deadline.cancel();
                    v->done();
                });
            });
        }
    };
    home.ctx.gather_metrics = [&home, count = peers.size()](std::function<void(std::vector<std::string>)> done) {
        // Each loop's counters are read on its own thread, never from here; the texts come back to this loop.
        auto texts = std::make_shared<std::vector<std::string>>(count);
        home.ctx.visit_loops(
            [texts](detail::server_context& loop, std::size_t n) -> std::function<void()> {
                return [texts, n, text = detail::render_metrics(loop)]() mutable { (*texts)[n] = std::move(text); };
            },
            [texts, done = std::move(done)] { done(std::move(*texts)); });
    };
}

server_stats server::stats() const
{
    // The metrics already count open channels per transport as they open and close.
    auto const& open = impl_->ctx.metrics.connections_open;
    server_stats s;
    s.websocket = open[detail::transport_index("websocket")];
    s.sse = open[detail::transport_index("sse")];
    s.long_polling = open[detail::transport_index("long-polling")];
    s.topics = impl_->hub.topic_count();
    s.listeners = impl_->listeners.size();
    s.parked = impl_->ctx.idle.parked();
    return s;
}

asio::io_context& server::context() noexcept
{
    return impl_->ioc;
}

}  // namespace switchboard
