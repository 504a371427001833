#pragma once
// Where a member's value lies in the text of a JSON object, so that it can be passed on byte for byte instead of
// re-serialized (a WebSocket publish command's "data"). The scanner reads text already validated as JSON: it only
// needs to tell strings (and their escapes) from structure, and compares keys after unescaping them, as a parser
// does ("d\u0061ta" is "data").

#include <cstddef>
#include <string_view>

namespace switchboard::detail {

struct member_text {
    std::string_view value;  // the value's text, from its first byte to its last (no surrounding whitespace)
    std::size_t count = 0;   // members named so at the top level of the object; `value` is the last of them
};

/// The top-level members of `object` named `key`. `object` must be valid JSON text holding an object (a UTF-8
/// byte order mark and whitespace around it are allowed); on any other text the result is unspecified, but
/// the scan stays within `object`.
member_text find_member(std::string_view object, std::string_view key);

}  // namespace switchboard::detail
