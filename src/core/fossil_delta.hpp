#pragma once
// Fossil's delta format (the one Centrifugo uses, with decoders in JavaScript, Go and C): a target document as
// copies of ranges of a source document and literal bytes, ending in a checksum of the target.
//
//   delta   := size "\n" segment* checksum ";"
//   segment := count "@" offset ","      copy `count` bytes of the source from `offset`
//            | count ":" <count bytes>   insert these bytes
//
// Numbers are written most significant digit first in base 64 with the digits 0-9 A-Z _ a-z ~; the checksum
// is the 32-bit sum of the target read as big-endian words (the last one padded with zero bytes).
//
// The encoder never splits a UTF-8 sequence between a copy and a literal, so the delta of one UTF-8 text
// against another is UTF-8 text itself: it can travel inside a JSON string and come back byte for byte.

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::detail {

/// A delta that turns `source` into `target`.
std::string make_delta(std::string_view source, std::string_view target);

/// `source` with `delta` applied, or nothing when the delta is malformed, reaches outside the source, or its
/// result does not have the size and checksum it names.
std::optional<std::string> apply_delta(std::string_view source, std::string_view delta);

}  // namespace switchboard::detail
