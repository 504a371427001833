#include "signaling_rooms.hpp"

#include <switchboard/channel.hpp>
#include <switchboard/error.hpp>
#include <switchboard/hooks.hpp>
#include <switchboard/hub.hpp>
#include <switchboard/hub_view.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace webrtc_example {

void install_signaling_rooms(switchboard::server& server, signaling_options options)
{
    auto const is_room = [prefix = options.topic_prefix](std::string const& topic) {
        return topic.size() > prefix.size() && topic.starts_with(prefix);
    };
    auto& hooks = server.hooks();

    hooks.on_subscribe = [&server, is_room, room_size = options.room_size](
                             switchboard::channel& ch, std::string const& topic) -> boost::system::error_code {
        if (!is_room(topic))
            return {};
        if (ch.transport() != "websocket" || server.hub().subscriber_count(topic) >= room_size)
            return switchboard::error::rejected;
        return {};
    };

    // Runs for each room of a channel that closes too, while it is still subscribed.
    hooks.on_unsubscribe = [&server, is_room](switchboard::channel& ch, std::string const& topic) {
        if (is_room(topic))
            server.publish(topic, {{"kind", "bye"}, {"from", std::to_string(ch.id())}});
    };

    hooks.on_publish = [&server, is_room](switchboard::publish_request& req) -> boost::system::error_code {
        if (!is_room(req.topic))
            return {};
        // POST /publish has no channel: nobody to stamp as the sender, so it may not speak in a room.
        if (!req.origin || !server.hub().subscribed(*req.origin, req.topic))
            return switchboard::error::rejected;
        auto signal = req.data_json();
        if (!signal.is_object() || !signal.contains("kind") || !signal["kind"].is_string())
            return switchboard::error::missing_field;
        signal["from"] = std::to_string(req.origin->id());
        req.replace_data(signal);
        return {};
    };
}

}  // namespace webrtc_example
