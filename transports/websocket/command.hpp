#pragma once
// A WebSocket client's command (docs/protocol.md), read from one text message. Parsing is separate from acting
// so every rule about what a command may hold lives here, and can be fuzzed without a socket.

#include <switchboard/position.hpp>

#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::websocket {

struct command {
    enum class kind { subscribe, unsubscribe, publish, ping, refresh, presence, presence_stats };

    kind type = kind::ping;
    std::optional<nlohmann::json> id;  // a number or a string, echoed in the answer
    std::string topic;                 // subscribe, unsubscribe, publish (a valid topic name; a pattern when `pattern`)
    bool pattern = false;              // subscribe, unsubscribe: the command named "pattern", not "topic"
    std::optional<position> since;     // subscribe: resume after this position (a pattern: its offset is the sequence)
    bool delta = false;                // subscribe: messages as deltas against the previous one where they can
    std::string data;                  // publish: the "data" member's JSON text, byte for byte as the client wrote it
                                       // (a binary frame's bytes: message::binary_prefix and base64)
    std::string idempotency_key;       // publish: a valid key, or empty (none; publish_options.hpp)
    std::string token;                 // refresh: the new token
    bool presence = false;             // subscribe: be a member of the topic's presence and get its events
    std::string resume;                // subscribe with presence: the key of a member this client was (grace)
    std::optional<std::size_t> limit;  // presence: members in the page (lowered to presence_options::max_page)
    std::string cursor;                // presence: the "next" of the previous page
};

struct command_error {
    boost::system::error_code code;
    std::string message;
    std::optional<nlohmann::json> id;  // when the command had a readable one
};

/// Reads one command; on failure fills `failure` and returns nothing.
std::optional<command> parse_command(std::string_view text, command_error& failure);

/// Reads a binary frame: a publish command without "data" (JSON, on one line), a line feed, then the payload's
/// bytes, which become the command's data as a binary payload (message::binary_prefix and base64).
std::optional<command> parse_binary_command(std::string_view frame, command_error& failure);

}  // namespace switchboard::websocket
