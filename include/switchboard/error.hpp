#pragma once
// Switchboard's error codes. They are boost::system error codes, so they pass to and from Asio and Beast
// untouched; each has a stable protocol name (error frames and HTTP error bodies carry it as "code").

#include <boost/system/error_code.hpp>

#include <string_view>
#include <type_traits>

namespace switchboard {

enum class error {
    invalid_json = 1,      // a command or body is not valid JSON (or a command is not an object)
    unknown_type,          // a command's "type" is not known
    missing_field,         // a required field is missing or of the wrong JSON type
    invalid_topic,         // a topic name outside 1-128 characters of [A-Za-z0-9_.:@/-]
    invalid_cursor,        // a cursor, since or Last-Event-ID that cannot be read
    too_many_topics,       // more topics in one request or subscriptions on one channel than allowed, or a new
                           // topic past the backplane's bound on topics (in all, or made by this client)
    message_too_large,     // a message or body over the size limit
    binary_not_supported,  // a binary WebSocket frame: commands are text
    rejected,              // an application hook refused the operation
    headers_too_large,     // HTTP request headers over the size limit
    bad_request,           // a malformed HTTP request
    not_found,             // an unknown HTTP path
    method_not_allowed,    // a known path with the wrong HTTP method
    too_many_connections,  // the server's or this address's connection limit is reached
    shutting_down,         // the server is stopping
    internal_error,        // an application hook threw
    backplane_unavailable, // the backplane cannot publish or read history now (its broker, Redis or NATS, unreachable): retry later
    transport_disabled,    // the transport asked for is turned off (server_options::transports)
    unauthorized,          // no token where one is required, or one that does not verify (bad signature, audience...)
    token_expired,         // the token's "exp" has passed
    forbidden,             // the token or the configuration does not allow this topic
    origin_not_allowed,    // the request's Origin is not on the allow-list
    rate_limited,          // past a rate limit; retry later
    unsubscribed,          // a subscribe still in progress was called off by an unsubscribe of its topic
    uri_too_long,          // an HTTP request line over the header size limit
    expectation_failed,    // an HTTP Expect other than 100-continue
    not_implemented,       // an HTTP transfer coding other than chunked
    version_not_supported, // an HTTP version other than 1.x
    too_many_pending,      // a WebSocket's commands still waiting on a hook or the backplane are at their bound
    invalid_pattern,       // a pattern outside the pattern syntax (topic.hpp), or one this server cannot serve yet
    presence_unavailable,  // presence is not kept by this server's backplane (Redis and NATS, for now)
    too_many_members,      // a topic's presence is at presence_options::max_members
    backend_unavailable,   // the application's backend (a proxy hook's URL) did not answer in time, could not be
                           // reached, answered garbage, or has too many requests in flight: retry later
    invalid_idempotency_key, // an idempotency key outside 1-128 characters of visible ASCII (publish_options.hpp)
    unknown_namespace,     // a topic "name:..." whose namespace the server is not configured with (namespaces)
};

boost::system::error_category const& error_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

/// The stable protocol name of a switchboard error ("invalid_topic"), or "internal_error" for any other code.
std::string_view error_name(boost::system::error_code const& ec) noexcept;

/// The HTTP status that answers a switchboard error (400, 401, 403, 404, 405, 409, 413, 414, 417, 429, 431, 500, 501,
/// 503 or 505).
unsigned http_status(boost::system::error_code const& ec) noexcept;

}  // namespace switchboard

template <>
struct boost::system::is_error_code_enum<switchboard::error> : std::true_type {};
