#pragma once
// GET /turn-credentials[?user=NAME]: a fresh time-limited TURN credential for the page, as one RTCIceServer:
//   {"urls":["turn:host:3478?transport=udp"],"username":"<expiry>:<user>","credential":"...","ttl":3600,
//    "expires":<unix time>}
// 404 not_found when no TURN server is configured (the page then uses host candidates only); 400 bad_request
// for a user name outside [A-Za-z0-9_.@-]{1,64}. Answers carry Cache-Control: no-store.

#include <switchboard/http.hpp>
#include <switchboard/server.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace webrtc_example {

struct turn_options {
    std::string secret;             // coturn's static-auth-secret; empty: no TURN
    std::vector<std::string> urls;  // e.g. "turn:turn.example.org:3478?transport=udp"
    std::chrono::seconds ttl{3600};  // how long a credential stays valid
};

switchboard::server::route_handler make_turn_route(turn_options options);

}  // namespace webrtc_example
