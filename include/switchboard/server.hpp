#pragma once
// The server: one HTTP listener on one port serving WebSocket, SSE and long polling to one hub, all on one
// io_context thread.
//
// Threading: construct, configure (hooks(), route()) and start() before the loop runs, on one thread. After
// that, publish(), publish_text(), publish_binary(), reload() and stop() are safe from any thread (they post onto
// the loop); everything else (subscribe() and its handles, hub(), hooks' invocations, channels) belongs to the loop
// thread: another thread posts onto context() to use them. Every `done` handler runs on the loop thread; one that
// throws is logged, and the throw goes no further.
//
// Lifetime: destroy a server only once its loop has run dry after stop() (run() returned), so that no handler
// left in the io_context points into it.
//
// Includes: this header names the types it mentions (fwd.hpp) without defining them, so that including it stays
// cheap. Code that uses them includes their headers: <switchboard/http.hpp> for routes, <switchboard/hooks.hpp>,
// <switchboard/hub_view.hpp> for hub(), <boost/asio/io_context.hpp>, <boost/asio/ip/tcp.hpp> for
// local_endpoint(), <nlohmann/json.hpp> for publish(); <switchboard/switchboard.hpp> includes them all.

#include <switchboard/fwd.hpp>
#include <switchboard/position.hpp>
#include <switchboard/presence.hpp>
#include <switchboard/publish_options.hpp>
#include <switchboard/server_api.hpp>
#include <switchboard/server_options.hpp>
#include <switchboard/subscription.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

struct history_result;
struct disconnect;

/// Per-transport connection counts, for metrics and tests.
struct server_stats {
    std::size_t websocket = 0;
    std::size_t sse = 0;
    std::size_t long_polling = 0;
    std::size_t topics = 0;  // topics with local subscribers
    std::size_t listeners = 0;  // C++ subscriptions (server::subscribe) open
    // Quiet streams, waiting polls and connections awaiting their next poll, whose socket waits in the loop's idle
    // watch.
    std::size_t parked = 0;
};

class server {
public:
    using publish_handler = std::function<void(boost::system::error_code, position)>;
    /// A route that answers at once.
    using route_handler = std::function<http_response(http_request const&)>;
    /// A route that answers when it can, through its responder (<switchboard/http.hpp>).
    using async_route_handler = std::function<void(http_request const&, http_responder)>;
    /// Makes the backplane on the server's loop (a Redis one needs its executor to connect).
    using backplane_factory = std::function<std::unique_ptr<switchboard::backplane>(boost::asio::any_io_executor)>;
    /// A C++ listener's message: its topic(), where() and data() (the publisher's JSON text, byte for byte).
    using message_handler = std::function<void(message_ptr const&)>;

    /// A server on the caller's io_context; the caller runs it.
    explicit server(boost::asio::io_context& ioc, server_options options = {});
    /// A server on the caller's io_context with another backplane (e.g. Redis) instead of the memory one.
    server(boost::asio::io_context& ioc, server_options options, std::unique_ptr<backplane> bp);
    /// A server that owns its io_context; run() drives it.
    explicit server(server_options options = {});
    /// A server that owns its io_context, on the backplane `make_backplane` returns for the loop's executor
    /// (called once, here; e.g. `[&](auto ex) { return std::make_unique<redis_backplane>(ex, redis, history); }`).
    /// An empty factory, or one returning null, means the memory backplane.
    server(server_options options, backplane_factory const& make_backplane);
    ~server();
    server(server const&) = delete;
    server& operator=(server const&) = delete;

    /// Application hooks; set them before start().
    switchboard::hooks& hooks() noexcept;

    /// Serves `path` (exact match) with the service's own handler, next to switchboard's transports: its
    /// `methods`, behind the security gate or not, answered within `timeout` (route_options, <switchboard/http.hpp>).
    /// The handler runs on the loop thread and answers through its responder, now or later.
    /// Call before start(). Throws std::invalid_argument if the path is taken.
    void route(std::string path, route_options const& options, async_route_handler handler);
    /// The same, answering GET, HEAD and POST at once with what the handler returns, without the security gate.
    void route(std::string path, route_handler handler);

    /// Binds and listens. Throws boost::system::system_error when the address cannot be bound.
    void start();
    /// The bound address (its port when options.port was 0). Valid after start().
    tcp_endpoint local_endpoint() const;

    /// Runs the owned io_context until the server has stopped. Only for the owning constructor. An exception that
    /// escapes a handler (a bug: hooks, routes and `done` handlers are guarded) is logged and counted
    /// (switchboard_handler_exceptions_total), and the loop goes on.
    void run();

    /// Graceful stop, from any thread: stops accepting, closes WebSockets with 1001, ends SSE streams with a
    /// close event, answers pending polls, then lets the loop run dry. Idempotent.
    void stop();

    /// Applies new options from any thread, without dropping connections (e.g. on SIGHUP): limits, timeouts,
    /// queue bounds and the memory backplane's history take effect at once (a Redis backplane's history limits
    /// from its next publishes). The listening address, the paths, the admin token and the API key keep the values
    /// the server started with.
    void reload(server_options options);

    /// Publishes from C++, from any thread. `data` is the message's JSON payload, serialized once, on the caller's
    /// thread (compact, on one line; a std::string here is a JSON string: JSON text goes to publish_text). `done`
    /// (optional) runs on the loop thread with the message's position or an error (invalid_topic,
    /// message_too_large, ...).
    void publish(std::string topic, nlohmann::json const& data, publish_handler done = {});
    /// publish() that is safe to retry: with `options.idempotency_key` (publish_options.hpp), a retry within
    /// history_options::idempotency_window gets the first publish's position and publishes nothing, on this node or
    /// another sharing its backplane. A key that is not valid: invalid_idempotency_key.
    void publish(std::string topic, nlohmann::json const& data, publish_options options, publish_handler done = {});
    /// Publishes JSON text from C++, from any thread: subscribers receive `json_text` byte for byte. It is checked
    /// on the caller's thread like a client's data (docs/protocol.md, "Payloads") and never parsed into values or
    /// serialized again. `done` (optional) runs on the loop thread with the message's position or an error:
    /// invalid_json for text that is not publishable JSON, invalid_topic, message_too_large, ...
    void publish_text(std::string topic, std::string json_text, publish_handler done = {});
    /// Publishes bytes from C++, from any thread: WebSocket subscribers receive them in a binary frame, SSE and
    /// long-polling ones as base64 in the envelope (docs/protocol.md, "Binary payloads"). Encoded on the caller's
    /// thread. `done` as for publish_text (message_too_large counts the bytes, not their base64).
    void publish_binary(std::string topic, std::string_view bytes, publish_handler done = {});

    /// Subscribes a C++ listener on this node to `topic`, as a client would be: the topic's name is checked,
    /// the backplane brings other nodes' messages, `options.since` replays history first (with the same
    /// `recovered` answer a client gets) and a stream gap ends it as it ends a client's. Authorization does not
    /// apply (the service is trusted, as with publish()); the on_subscribe and on_unsubscribe hooks see it as a
    /// channel whose transport() is "listener". `on_message` runs on the loop thread for each message, in
    /// order; a throw is logged and ends the subscription. It is made on a later turn of the loop (so
    /// nothing runs before this returns; options.on_subscribed says when), and lasts until the handle is
    /// destroyed or unsubscribed, or the server ends it (options.on_closed). `topic` may be a pattern
    /// (topic.hpp: "sports.*", "orders.>"): every topic it matches is delivered, each message once, from the
    /// moment it is made (options.since is refused with error::invalid_pattern: patterns do not resume yet;
    /// so is a backplane other than memory).
    /// Loop thread only (or before the loop runs); from another thread, post onto context() and keep the
    /// handle there.
    [[nodiscard]] subscription subscribe(std::string topic, message_handler on_message, subscribe_options options = {});

    /// Presence (docs/protocol.md, "Presence"), from any thread: at most `limit` members of `topic` (lowered to
    /// options.presence.max_page) whose client ids sort after `after` ("" from the first), in client id order, and
    /// the next page's cursor (`next`, empty on the last page). `done` runs on the loop thread, with
    /// invalid_topic, or presence_unavailable over a backplane that keeps no presence. The service is trusted:
    /// no authorization applies, as with publish().
    void presence(std::string topic, std::string after, std::size_t limit,
                  std::function<void(boost::system::error_code, presence_page)> done);
    /// The topic's counts (present clients, distinct users), from any thread; `done` on the loop thread.
    void presence_stats(std::string topic, std::function<void(boost::system::error_code, presence_counts)> done);

    /// The server API (docs/server-api.md; over HTTP under /api/ with options.api_key). Every call is safe from
    /// any thread (it posts onto the loop) and `done` runs on the loop thread. The service is trusted: no hook
    /// and no authorization apply, as with publish().
    ///
    /// Publishes `json_text` (checked as publish_text checks it, delivered byte for byte) to each of `topics`
    /// through the backplane: one result per topic, in their order (its position, or invalid_topic,
    /// message_too_large, invalid_json...).
    void broadcast(std::vector<std::string> topics, std::string json_text,
                   std::function<void(std::vector<broadcast_result>)> done = {});
    /// The same, retry-safe with options.idempotency_key (scoped per topic: a retry publishes none twice; an
    /// invalid key fails every topic with invalid_idempotency_key).
    void broadcast(std::vector<std::string> topics, std::string json_text, publish_options options,
                   std::function<void(std::vector<broadcast_result>)> done = {});
    /// A page of `topic`'s history after `since` (none: the position only), envelopes totalling at most
    /// `max_bytes` (the first message always), as backplane::history reads it.
    void history(std::string topic, std::optional<position> since, std::size_t max_bytes,
                 std::function<void(boost::system::error_code, history_result)> done);
    /// The rest are this node's: every loop of the process (set_loops) answers for its own channels; other
    /// nodes of a cluster are not asked.
    /// The open client channels of `user` (identity::user).
    void channels_of_user(std::string user, std::function<void(std::vector<channel_info>)> done);
    /// Closes every channel of `user`, or the channel `id`, with `reason`; `done` gets how many were closed.
    void disconnect_user(std::string user, disconnect reason, std::function<void(std::size_t)> done = {});
    void disconnect_channel(std::uint64_t id, disconnect reason, std::function<void(std::size_t)> done = {});
    /// Unsubscribes channel `id` from `topic` (or a pattern) as its own unsubscribe would (the on_unsubscribe hook
    /// runs); `done` gets 1, or 0 when no open channel `id` held it. The client is not told (no frame for it yet).
    void unsubscribe_channel(std::uint64_t id, std::string topic, std::function<void(std::size_t)> done = {});
    /// Topics with subscribers and their counts, most subscribers first.
    void topics(std::function<void(std::vector<topic_count>)> done);

    /// A read-only view of the hub (who is subscribed to what on this node), on the loop thread.
    hub_view hub() const noexcept;
    /// The backplane, for advanced use on the loop thread.
    switchboard::backplane& backplane() noexcept;

    /// The servers of every loop of this process, this one included (one io_context and thread each, joined by
    /// one loop_cluster or each its own Redis/NATS node: docs/scaling.md). GET /metrics on any of them then
    /// answers for the process: each loop renders its own on its own thread, and the answer sums them (and adds
    /// switchboard_loop_channels, the open channels of each loop). The servers must outlive every request; a
    /// loop that does not answer within 2 s is left out. Call on each of them with the same list, before their
    /// loops run (or on this server's loop); fewer than two is one loop alone.
    void set_loops(std::vector<server*> loops);

    /// Connection counts; loop thread only.
    server_stats stats() const;

    boost::asio::io_context& context() noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace switchboard
