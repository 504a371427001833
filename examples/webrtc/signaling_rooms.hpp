#pragma once
// Signaling rooms on switchboard topics: the topic "<prefix><room>" (e.g. "webrtc.lobby") is one room. The hooks
// installed here make a room something peers can trust for signaling:
//   - only WebSocket channels may join (they are the ones that can publish), at most `room_size` at a time;
//   - only members may publish to a room, and only JSON objects with a string "kind";
//   - the server stamps every signaling message with "from": the publisher's channel id, so a peer cannot
//     speak in another peer's name, and addressed messages ("to": an id) reach the right peer;
//   - when a member leaves (unsubscribes or disconnects), the server publishes {"kind":"bye","from":id}.
// Topics outside the prefix pass through untouched.

#include <switchboard/server.hpp>

#include <cstddef>
#include <string>

namespace webrtc_example {

struct signaling_options {
    std::string topic_prefix = "webrtc.";
    std::size_t room_size = 4;  // peers in one room at once; the page opens one connection to each
};

/// Sets the server's subscribe, unsubscribe and publish hooks. Call before server.start().
void install_signaling_rooms(switchboard::server& server, signaling_options options);

}  // namespace webrtc_example
