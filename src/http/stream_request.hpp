#pragma once
// The request shape shared by SSE and long polling: ?topic=A&topic=B plus a cursor (from ?since=, ?cursor= or
// Last-Event-ID), checked against the limits before any channel exists.

#include <switchboard/backplane.hpp>
#include <switchboard/cursor.hpp>
#include <switchboard/http.hpp>
#include <switchboard/server_options.hpp>

#include "http/query.hpp"

#include <boost/system/error_code.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::detail {

class channel_services;

struct stream_request {
    std::vector<std::string> topics;  // sorted, without duplicates
    // The client's server-side subscriptions (identity::topics), sorted, without duplicates: subscribed beside
    // `topics` without their authorization. A stream with some needs no ?topic= of its own.
    std::vector<std::string> server_topics;
    std::vector<std::string> patterns;  // ?pattern= (valid, sorted, without duplicates)
    cursor since;  // sorted by name (topics, and patterns at their sequence); may be empty, or name only some
    bool delta = false;  // ?delta=1: the topics' messages as deltas against the previous one where they can
    bool presence = false;  // ?presence=1: a member of every topic's presence, with its join and leave events
    std::string presence_resume;  // ?presence_resume=KEY: the resume key of the member this client was

    /// The position to resume `topic` (or a pattern) from, if the cursor has one. O(log n).
    std::optional<position> since_for(std::string const& topic) const;
};

/// Reads topics, patterns and the cursor found in `cursor_param` (or the Last-Event-ID header when `use_last_event_id`)
/// from a request whose target's query is `q`, for a client whose server-side subscriptions are `server_topics`
/// (valid names, authentication checked them). On error returns the code and a message for the client.
boost::system::error_code parse_stream_request(http_request const& req, query const& q, server_options const& options,
                                               std::vector<std::string> const& server_topics, char const* cursor_param,
                                               bool use_last_event_id, stream_request& out, std::string& message);

/// The same, parsing the request's target first (as the router does), for a client without server-side
/// subscriptions.
boost::system::error_code parse_stream_request(http_request const& req, server_options const& options,
                                               char const* cursor_param, bool use_last_event_id,
                                               stream_request& out, std::string& message);

/// One topic of a stream, subscribed: its history (or position) and whether the client asked to resume it.
struct topic_subscription {
    std::string topic;
    history_result result;
    bool resumed = false;
    bool server = false;  // a server-side subscription (stream_request::server_topics)
};

/// One pattern of a stream, subscribed: its history after the cursor's sequence (or its sequence now).
struct pattern_subscription {
    std::string pattern;
    pattern_history_result result;
    std::optional<position> since;  // what the client resumes from, when it asked to
};

/// Where a pattern's position starts: the client's sequence when the pattern's replay runs from it (its end
/// then moves it, push_channel::pattern_replayed), else the sequence now (nothing to replay, or another epoch).
position start_position(pattern_subscription const& s);

/// Subscribes `ch` to every topic of `wanted`, each from its position in the cursor, then calls `done` once:
/// with every topic's result in `wanted`'s order (sorted by topic), or with the first error. The histories read
/// total at most `max_bytes` (a share each, and a message at least; see backplane::history). They may answer after this
/// returns (a backplane on the network); `done` is not called for a channel that closed meanwhile.
void subscribe_topics(channel_services& services, channel& ch, stream_request const& wanted, std::size_t max_bytes,
                      std::function<void(boost::system::error_code, std::vector<topic_subscription>)> done);

/// How a stream refuses its client: an HTTP error, with a message, over the channel's connection.
using stream_refusal = std::function<void(boost::system::error_code, std::string const& why)>;

/// The start every stream (SSE, long polling) shares once its channel `ch` exists: registers it
/// (channel_services::open), authorizes every topic of `wanted` for it (its server-side subscriptions need
/// none), then subscribes them all, server-side ones included
/// (subscribe_topics, the histories within `max_bytes`). `subscribed` gets every topic's result and every
/// pattern's; `refuse` the first refusal of any step (error::forbidden names the topic). With presence=1 the
/// channel joins every topic's presence last (channel_services::join_presence_all). The patterns of
/// `wanted` are subscribed after the topics, each authorized as a pattern and read from the cursor's sequence
/// for it (subscribe_queue::subscribe_pattern). Neither is called for a channel that closed meanwhile (the
/// server stopping).
using stream_subscribed = std::function<void(std::vector<topic_subscription>, std::vector<pattern_subscription>)>;
void open_stream(channel_services& services, channel_ptr const& ch, stream_request wanted, std::size_t max_bytes,
                 stream_refusal refuse, stream_subscribed subscribed);

/// Positions after a replay: the position just before the first replayed message (or `latest` when nothing
/// is replayed), which deliveries then move forward.
position start_position(history_result const& result);

}  // namespace switchboard::detail
