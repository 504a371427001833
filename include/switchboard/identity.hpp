#pragma once
// Who a channel (or an HTTP publish) is: what authentication made of its token. Immutable once made and shared
// by pointer, so a channel's identity can be swapped whole when a WebSocket refreshes its token.

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard {

struct identity {
    /// The user id: the token's "sub" claim. Empty for an anonymous client.
    std::string user;
    /// Every claim of the token (a JSON object), for hooks that decide on more than the user id.
    nlohmann::json claims = nlohmann::json::object();
    /// When the token stops being valid ("exp"), if it ever does. A streaming channel is warned (WebSocket)
    /// and then closed with code 4004 at that time unless it refreshes its token.
    std::optional<std::chrono::system_clock::time_point> expires_at;
    /// True when a token (or the authenticate hook) vouched for this client.
    bool authenticated = false;
    /// Server-side subscriptions: topics the server subscribes the channel to as it connects, without the
    /// client asking and without topic permissions or the authorize hook (whoever vouched for the client granted
    /// them). The token's "topics" claim, the connect proxy's "topics", or what an authenticate hook sets. At most
    /// max_subscriptions valid topic names, or the connect is refused; ignored on a refresh and on POST /publish.
    std::vector<std::string> topics;

    /// The identity of a client that presented nothing.
    static std::shared_ptr<identity const> anonymous();
};

using identity_ptr = std::shared_ptr<identity const>;

}  // namespace switchboard
