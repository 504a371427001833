#pragma once
// Base64 (RFC 4648, the standard alphabet with padding): how a binary payload travels inside JSON (the envelope
// of SSE and long polling) and through the backplanes, which carry text.

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::detail {

std::string base64_encode(std::string_view bytes);

/// The bytes `text` encodes, or nothing when it is not canonical base64 (a character outside the alphabet,
/// missing or misplaced padding, a length not a multiple of 4, pad bits that are not zero): one encoding per
/// payload, so the same bytes always travel as the same text.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace switchboard::detail
