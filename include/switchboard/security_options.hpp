#pragma once
// Who may connect, subscribe and publish, from which web origins, and how fast: part of server_options
// (server_options::security). Every field's default keeps the server open, as the demo is; docs/security.md
// shows a locked-down configuration.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace switchboard {

/// A token bucket: `per_second` tokens flow in, at most `burst` wait. per_second == 0 turns the limit off.
struct rate_limit {
    double per_second = 0;
    std::size_t burst = 0;  // 0: one second's worth (at least 1)

    bool enabled() const noexcept { return per_second > 0; }
};

/// Topic-name patterns: an exact name ("chat"), a prefix ending in '*' ("chat.*" matches "chat.x", "chat."),
/// or "*" alone for every topic. An empty list allows nothing.
using topic_patterns = std::vector<std::string>;

struct security_options {
    // --- Authentication (JWT). A token is read from "Authorization: Bearer T", then the cookie below, then
    // ?token=T. With a secret or a public key set (or hooks::authenticate), a request without a valid token is
    // refused (HTTP 401) unless allow_anonymous.
    std::string jwt_secret;              // HS256 key; "" turns HS256 off
    std::string jwt_public_key;          // RS256 public key, PEM text (not a path); "" turns RS256 off
    std::string jwt_audience;            // when set, the token's "aud" must name it
    std::string jwt_issuer;              // when set, the token's "iss" must equal it
    std::chrono::seconds jwt_leeway{5};  // clock skew allowed on "exp" and "nbf"
    std::string token_cookie = "switchboard_token";  // cookie carrying the token; "" reads no cookie
    bool allow_anonymous = false;        // with authentication configured: let clients without a token in
    // A WebSocket whose token expires within this time gets an "expiring" frame and may send a "refresh".
    std::chrono::milliseconds token_expiry_warning{30'000};

    // --- Topic permissions. A subscribe or publish must match the list for its kind of client; a token may
    // narrow it further with the claims "sub_topics" and "pub_topics" (lists of the same patterns).
    topic_patterns anonymous_subscribe{"*"};
    topic_patterns anonymous_publish{"*"};
    topic_patterns user_subscribe{"*"};  // clients with a verified token
    topic_patterns user_publish{"*"};

    // --- Web origins. Empty: no CORS headers, and WebSocket upgrades from any origin. Otherwise a request whose
    // Origin header is not listed is refused (403); listed origins get CORS answers with credentials. "*" in the
    // list allows every origin (echoed, never a literal "*", so credentials still work).
    std::vector<std::string> allowed_origins;

    // --- Rate limits (off by default). Past a limit a command gets an error frame, an HTTP request 429 with
    // Retry-After; `max_rate_strikes` refusals in a row close a WebSocket with code 4005.
    rate_limit channel_messages;      // commands per second from one WebSocket
    rate_limit user_messages;         // commands and POST /publish per second from one user (or, when
                                      // anonymous, one IP address for POST /publish)
    rate_limit address_connections;   // new TCP connections per second from one IP address
    std::size_t max_rate_strikes = 20;
    std::size_t max_rate_keys = 100'000;  // users and addresses tracked at once; past it new ones go unlimited
};

}  // namespace switchboard
