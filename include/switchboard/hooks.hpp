#pragma once
// Application hooks: how an embedding service accepts, transforms or rejects what clients do. Each runs on the
// loop thread and must not block. A hook that throws is caught at the boundary, logged, and treated as a
// refusal with error::internal_error (and the channel, if any, is closed).

#include <switchboard/channel.hpp>
#include <switchboard/disconnect.hpp>

#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace switchboard {

/// A message a client wants to publish, as seen by the publish hook.
struct publish_request {
    std::string const& topic;
    nlohmann::json& data;                  // may be changed: the hook transforms the message
    channel* origin;                       // the publishing WebSocket channel, or null for POST /publish
    std::string const& remote_address;
};

struct hooks {
    /// A new channel (any transport), before it receives anything. Return an error to refuse it.
    std::function<boost::system::error_code(channel&)> on_connect;
    /// A channel is gone, with the reason it was closed.
    std::function<void(channel&, disconnect const&)> on_disconnect;
    /// A channel asks for a topic. Return an error (e.g. error::rejected) to refuse; the connection stays up.
    std::function<boost::system::error_code(channel&, std::string const& topic)> on_subscribe;
    std::function<void(channel&, std::string const& topic)> on_unsubscribe;
    /// A client publishes (WebSocket command or POST /publish). Return an error to refuse; change
    /// `request.data` to transform. Messages published from C++ through server::publish do not pass here.
    std::function<boost::system::error_code(publish_request&)> on_publish;
};

}  // namespace switchboard
