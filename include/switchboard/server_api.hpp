#pragma once
// The results of the server API's operations (server.hpp: broadcast(), topics(), channels_of_user(); over HTTP,
// docs/server-api.md). Plain values, copied to the caller.

#include <switchboard/position.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace switchboard {

/// One topic of a broadcast: its message's position, or why it was not published (invalid_topic, ...).
struct broadcast_result {
    std::string topic;
    boost::system::error_code error;
    position where;
};

/// A topic with subscribers on this node (every loop of the process), and how many.
struct topic_count {
    std::string topic;
    std::size_t subscribers = 0;
};

/// One open channel of a user on this node: what channel.hpp says of it.
struct channel_info {
    std::uint64_t id = 0;
    std::string transport;       // "websocket", "sse" or "long-polling"
    std::string remote_address;  // "ip:port"
    std::string user;
    std::vector<std::string> topics;
    std::vector<std::string> patterns;
};

}  // namespace switchboard
