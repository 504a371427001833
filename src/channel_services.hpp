#pragma once
// What a channel, its transport and the write path need from the server: the hub and backplane, the options,
// the flush scheduler, keepalive and the polls' holds, the counters, the authorizer, and the channel's life:
// open, subscribe, unsubscribe, publish, closed. One per server; loop thread only. The HTTP side's own state
// (connections and their admission, TLS) is the server_context's, which extends this; transports reach each
// other only through the hub.

#include <switchboard/backplane.hpp>
#include <switchboard/channel.hpp>
#include <switchboard/disconnect.hpp>
#include <switchboard/hooks.hpp>
#include <switchboard/hub.hpp>
#include <switchboard/server_options.hpp>

#include "core/channel_registry.hpp"
#include "core/deadline_list.hpp"
#include "core/idle_watch.hpp"
#include "core/subscribe_queue.hpp"
#include "ops/metrics.hpp"
#include "security/authorizer.hpp"
#include "write_path/flush_scheduler.hpp"
#include "write_path/keepalive.hpp"
#include "write_path/plain_io.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

class channel_services {
public:
    channel_services(boost::asio::any_io_executor ex, server_options const& opts, switchboard::hooks& h,
                     switchboard::hub& hb, switchboard::backplane& bp);
    channel_services(channel_services const&) = delete;
    channel_services& operator=(channel_services const&) = delete;

    boost::asio::any_io_executor executor;
    server_options const& options;
    switchboard::hub& hub;
    switchboard::backplane& backplane;
    flush_scheduler flusher;
    idle_watch& idle;  // the loop's (one per io_context), where quiet connections wait for input
    plain_io_loop const plain_loop{flusher.batch(), options.park_idle ? &idle : nullptr};
    channel_registry channels;  // every channel open() accepted and closed() has not seen; keepalive walks it
    detail::keepalive keepalive;
    deadline_list poll_holds;  // the waiting long polls', one timer for all
    // Waiting long polls whose departure watch moves to `idle` once they have been quiet for two keepalive
    // ticks (http_connection, with io.park_idle).
    deadline_list poll_parking;
    // Kept-alive HTTP/1.1 connections waiting for their next request (request_timeout), on their socket alone.
    deadline_list keep_alive_waits;
    detail::metrics metrics;
    detail::authorizer authorizer;
    bool stopping = false;

    /// Registers a new channel and asks the connect hook; on an error the caller answers it and drops it.
    boost::system::error_code open(channel_ptr const& ch);
    /// The shared part of every channel's close path: leave every topic, tell the application, unregister.
    void closed(channel& ch, disconnect const& reason);

    /// Subscribes `ch` to `topic` (limit, authorization unless `a` says it was done, hook, hub), then reads its
    /// history after `since` (or just its position): a first page of at most `max_bytes` (see backplane::history;
    /// the channel reads the rest as it goes). `done` gets an error or the history; on an error `ch` is not
    /// subscribed. A client's subscribes and unsubscribes of one topic take effect in the order it sent
    /// them (subscribe_queue.hpp).
    void subscribe(channel& ch, std::string const& topic, std::optional<position> const& since,
                   std::size_t max_bytes, subscribe_queue::authorization a, subscribe_queue::subscribe_handler done);
    /// Ends `ch`'s subscribes of `topic` in progress (answered error::unsubscribed), then its subscription.
    /// Returns false when `ch` was neither subscribed nor subscribing.
    bool unsubscribe(channel& ch, std::string const& topic);

    /// Subscribes `ch` to `pattern` (subscribe_queue::subscribe_pattern): error::invalid_pattern (with
    /// pattern_problem's reason, or the backplane's), too_many_topics, forbidden, an authorize or on_subscribe
    /// refusal, or the pattern's history after `since` (a first page of at most `max_bytes`, the sequence now).
    /// `done` once, never after `ch` has closed.
    void subscribe_pattern(channel& ch, std::string const& pattern, std::optional<position> const& since,
                           std::size_t max_bytes, subscribe_queue::authorization a,
                           subscribe_queue::pattern_handler done);
    /// Ends `ch`'s subscribes of `pattern` in progress, then its subscription. False when it had neither.
    bool unsubscribe_pattern(channel& ch, std::string const& pattern);
    /// Why `pattern` cannot be subscribed to on this server, for a client (empty when it can): its syntax, or a
    /// backplane that does not deliver every topic to every node.
    std::string pattern_refusal(std::string_view pattern) const;

    /// A publish's outcome: its position, or an error and the reason a hook gave for it (maybe empty).
    using publish_answer = std::function<void(boost::system::error_code, position, std::string const& reason)>;
    /// A client's publish: checks the topic, the idempotency key and the size, runs the publish hooks (on_publish,
    /// then moderate, which may answer later), then the backplane. `who` published it (origin's identity, or
    /// POST /publish's). `data` is JSON text that passed payload_problem (json_input.hpp); it is delivered as it
    /// is, or as a hook replaced it. A retry with an idempotency key (publish_options.hpp) runs the hooks again (a
    /// hook may refuse it), then gets the first publish's position from the backplane.
    void publish(std::string const& topic, std::string data, channel* origin, identity_ptr who,
                 std::string const& remote_address, publish_options publishing, publish_answer done);

    /// Makes `ch` (subscribed to `topic`) a member of the topic's presence and has it receive the topic's presence
    /// events from then on (not its own join). Its client id is made at its first presence subscription, unless
    /// `resume` is the key of a member that left within presence_options::grace with the same user: then the
    /// channel takes that member over (its client id, and, for the topics it was present in, no join). `done`
    /// gets presence_unavailable (the backplane keeps none), message_too_large (its info past max_info_bytes),
    /// too_many_members, or success; once, on the loop thread, maybe before this returns. Called for a channel
    /// present already: success, nothing done.
    void join_presence(channel& ch, std::string const& topic, std::string const& resume,
                       backplane::presence_handler done);
    /// join_presence for each of `topics` in turn (a stream or a poll is a member of all its topics or none),
    /// then `done`; on a refusal, `ch` leaves those it joined (no grace: its stream never started) and `done` gets
    /// the error. Nothing is called once `ch` is closing.
    void join_presence_all(std::shared_ptr<channel> const& ch, std::vector<std::string> topics,
                           std::string const& resume, backplane::presence_handler done);
    /// `ch` leaves `topic`'s presence now (an unsubscribe). Nothing when it was not present.
    void leave_presence(channel& ch, std::string const& topic);
    /// Every membership leaves now, the open channels' and those kept in the reconnect grace: used when stopping,
    /// before the backplane closes (a transport may finish closing its channel after that, too late to say it).
    void end_presence();
    /// Members kept within the grace, for metrics and tests.
    std::size_t lingering_members() const noexcept;

    /// Wraps a publish completion so that accepted publishes are counted and timed.
    backplane::publish_handler counted(backplane::publish_handler done);

private:
    void publish_decided(std::string const& topic, std::string data, publish_options publishing, publish_answer done);

    // A closed channel's presence, kept for the grace (its key names it).
    struct lingering {
        std::string client;
        std::string user;
        bool authenticated = false;
        std::string address;  // the client's IP: what it holds in the grace counts with its connections
        std::vector<std::string> topics;
        std::unique_ptr<boost::asio::steady_timer> timer;
    };
    void linger(channel& ch);
    void expire(std::string const& key);
    /// Drops a lingering entry (its members stay or leave as the caller decides) and its address's count.
    void forget(std::unordered_map<std::string, lingering>::iterator it);

    std::unordered_map<std::string, lingering> lingering_;
    // Lingering entries per client IP, bounded as its connections are (limits.max_connections_per_address):
    // a client that connects, joins and leaves in a loop holds no more in the grace than it could hold live.
    std::unordered_map<std::string, std::size_t> lingering_per_address_;
    switchboard::hooks& hooks_;
    subscribe_queue subscribes_;  // subscribes in progress
};

}  // namespace switchboard::detail
