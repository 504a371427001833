#pragma once
// Time-limited TURN credentials in coturn's `use-auth-secret` scheme (the "TURN REST API" of
// draft-uberti-behave-turn-rest): the username is "<expiry unix time>:<user>" and the password is
// base64(HMAC-SHA1(shared secret, username)). coturn, configured with the same secret, recomputes the password
// from the username and refuses it once the expiry has passed; nothing is stored on either side.

#include <chrono>
#include <string>
#include <string_view>

namespace webrtc_example {

/// One credential, shaped like an RTCIceServer's username and credential.
struct turn_credentials {
    std::string username;    // "<expiry>:<user>"
    std::string credential;  // base64(HMAC-SHA1(secret, username))
    std::chrono::system_clock::time_point expiry;
};

/// base64(HMAC-SHA1(secret, username)), with OpenSSL's libcrypto. Thread-safe.
std::string turn_password(std::string_view secret, std::string_view username);

/// Credentials for `user` valid until now + ttl (whole seconds, rounded down). `user` must not contain ':'
/// (coturn reads the expiry up to the first ':'); throws std::invalid_argument if it does or if ttl < 1 s.
turn_credentials make_turn_credentials(std::string_view secret, std::string_view user,
                                       std::chrono::system_clock::time_point now, std::chrono::seconds ttl);

}  // namespace webrtc_example
