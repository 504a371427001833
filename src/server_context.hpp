#pragma once
// What the transports share: the hub, the backplane, options, hooks, the flush scheduler and the registry of
// open channels. One per server; loop thread only. Transports reach each other only through the hub.

#include <switchboard/backplane.hpp>
#include <switchboard/channel.hpp>
#include <switchboard/error.hpp>
#include <switchboard/hooks.hpp>
#include <switchboard/hub.hpp>
#include <switchboard/server_options.hpp>

#include "http/connection_slot.hpp"
#include "write_path/flush_scheduler.hpp"
#include "write_path/keepalive.hpp"
#include "ops/metrics.hpp"
#include "security/rate_limiter.hpp"
#include "core/subscribe_queue.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <optional>
#include <unordered_set>

namespace boost::asio::ssl {
class context;
}

namespace switchboard::detail {

class http_connection;
class jwt_verifier;

/// An authorization outcome: success, or the error to answer.
using decision = std::function<void(boost::system::error_code)>;

struct server_context {
    server_context(boost::asio::any_io_executor ex, server_options const& opts, switchboard::hooks& h,
                   switchboard::hub& hb, switchboard::backplane& bp);
    ~server_context();

    boost::asio::any_io_executor executor;
    server_options const& options;
    switchboard::hooks& hooks;
    switchboard::hub& hub;
    switchboard::backplane& backplane;
    flush_scheduler flusher;
    detail::keepalive keepalive;
    connection_counts connections;
    std::size_t lingering_refusals = 0;  // refused connections draining after their 503 (http_connection)
    detail::metrics metrics;
    bool stopping = false;
    // TLS settings when options name a certificate (else null); replaced on reload, each connection keeps its own.
    std::shared_ptr<boost::asio::ssl::context> tls;

    std::unordered_set<channel_ptr> channels;
    subscribe_queue subscribes{*this};  // subscribes in progress
    std::unordered_set<http_connection*> http_connections;

    keyed_rate_limiter user_rates;     // security.user_messages, by user id (or IP for anonymous POST /publish)
    keyed_rate_limiter address_rates;  // security.address_connections, by IP

    /// The JWT verifier built from options.security (one that verifies nothing when no key is set).
    jwt_verifier const& jwt() const noexcept { return *jwt_; }
    /// Rebuilds what is derived from options.security after a reload; a bad key keeps the previous one
    /// (logged), so a typo in a reload does not lock everybody out or let everybody in.
    void reload_security();

    /// Whether `who` may subscribe to / publish on `topic`: the configured permissions and token claims
    /// (error::forbidden), then hooks.authorize. `done` runs once on the loop thread, maybe before this returns.
    void authorize(authorize_request::kind action, std::string const& topic, identity_ptr who, channel_ptr origin,
                   std::string const& remote_address, decision done);
    /// The same for each of `topics` in turn; stops at the first refusal, whose topic goes to `refused_topic`.
    void authorize_all(authorize_request::kind action, std::vector<std::string> topics, identity_ptr who,
                       channel_ptr origin, std::string const& remote_address,
                       std::function<void(boost::system::error_code, std::string const& refused_topic)> done);

    /// One command or HTTP publish under the rate limits: the channel's own bucket (when `own`), then the
    /// user's (keyed by `who`'s user id, or by `address` when anonymous and `address` is not empty).
    /// error::rate_limited with the wait in `retry_after` when past one.
    boost::system::error_code take_message(channel_rate* own, identity const& who, std::string const& address,
                                           std::chrono::milliseconds& retry_after);

    /// Query parameters one request may carry: every topic the subscription limit allows, plus a few others.
    std::size_t max_parameters() const noexcept { return options.max_subscriptions + 16; }

    /// Counts a new connection from `address` (an IP) in `slot`, or refuses it: error::too_many_connections past
    /// max_connections or max_connections_per_address, error::rate_limited (the wait in `retry_after`) past
    /// security.address_connections. A refused connection is counted nowhere.
    boost::system::error_code admit(std::string const& address, connection_slot& slot,
                                    std::chrono::milliseconds& retry_after);

    /// Registers a new channel and asks the connect hook; on an error the caller answers it and drops it.
    boost::system::error_code open(channel_ptr const& ch);
    /// The shared part of every channel's close path: leave every topic, tell the application, unregister.
    void closed(channel& ch, disconnect const& reason);

    /// Who a client is to the bounds per client: "user:ID" when authenticated, else "ip:ADDRESS". `remote_address`
    /// is the channel's or connection's "IP:port", always with its port: the last colon is cut, which from an IPv6
    /// address alone would cut a group of it.
    static std::string client_key(identity const& who, std::string_view remote_address);

    /// Subscribes `ch` to `topic` (limit, authorization unless `a` says it was done, hook, hub), then reads its
    /// history after `since` (or just its position): a first page of at most `max_bytes` (see backplane::history;
    /// the channel reads the rest as it goes). `done` gets an error or the history; on an error `ch` is not
    /// subscribed. A client's subscribes and unsubscribes of one topic take effect in the order it sent
    /// them (subscribe_queue.hpp).
    void subscribe(channel& ch, std::string const& topic, std::optional<position> const& since,
                   std::size_t max_bytes, subscribe_queue::authorization a, backplane::history_handler done);
    /// Ends `ch`'s subscribes of `topic` in progress (answered error::unsubscribed), then its subscription.
    /// Returns false when `ch` was neither subscribed nor subscribing.
    bool unsubscribe(channel& ch, std::string const& topic);

    /// A client's publish: checks the topic and size, runs the publish hook, then the backplane. `data` is JSON
    /// text that passed payload_problem (json_input.hpp); it is delivered as it is, or as the hook replaced it.
    void publish(std::string const& topic, std::string data, channel* origin, std::string const& remote_address,
                 backplane::publish_handler done);

    /// Wraps a publish completion so that accepted publishes are counted and timed.
    backplane::publish_handler counted(backplane::publish_handler done);

    /// Runs an application hook; a throw is logged and becomes error::internal_error.
    template <class F>
    boost::system::error_code guarded(char const* hook_name, F&& f) noexcept;

private:
    std::unique_ptr<jwt_verifier> jwt_;
};

void log_hook_exception(char const* hook_name) noexcept;

template <class F>
boost::system::error_code server_context::guarded(char const* hook_name, F&& f) noexcept
{
    try {
        return f();
    } catch (...) {
        log_hook_exception(hook_name);
        return make_error_code(error::internal_error);
    }
}

}  // namespace switchboard::detail
