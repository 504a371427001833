#pragma once
// JSON that comes from the network: never throws, and refuses nesting deeper than a fixed bound (serializing a
// deeply nested value recurses, so depth is a resource like size). A message's data is only checked here, never
// parsed into values: subscribers receive the publisher's bytes (docs/protocol.md, "Payloads").

#include <nlohmann/json.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace switchboard::detail {

inline constexpr std::size_t max_json_depth = 64;

/// Parses `text` into `out`; error::invalid_json when it is not JSON or nests deeper than max_json_depth, with
/// the reason in `why` when given.
boost::system::error_code parse_json(std::string_view text, nlohmann::json& out, std::string* why = nullptr);

/// Why `text` cannot be a message's data, delivered byte for byte inside the envelope on every transport, or ""
/// when it can. One pass that builds no value: `text` must be JSON (RFC 8259: UTF-8, one value, nothing after
/// it; numbers within the range of a double), nest at most max_json_depth levels, and hold neither a UTF-8 byte
/// order mark (a parser skips one; inside the envelope it would be a stray character) nor a raw carriage return
/// (JSON whitespace, but SSE reads it as a line end, so it could not reach an EventSource unchanged).
std::string payload_problem(std::string_view text);

/// Why `data` cannot be a message's data as the backplane carries it: JSON text (payload_problem), or a binary
/// payload (message::binary_prefix and canonical base64); "" when it can.
std::string data_problem(std::string_view data);

/// The size of the payload `data` carries: its JSON text, or the bytes a binary payload's base64 stands for.
std::size_t payload_size(std::string_view data) noexcept;

/// The one check of payload_problem that text already parsed as part of a larger JSON text still needs (a
/// WebSocket command's "data": the command was checked whole, and a value inside it cannot start with a byte
/// order mark): why it cannot be delivered byte for byte, or "".
std::string raw_cr_problem(std::string_view json_text);

}  // namespace switchboard::detail
