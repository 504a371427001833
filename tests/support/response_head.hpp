#pragma once
// Parsing an HTTP/1.1 response's status line and header fields, for clients that read raw sockets.

#include "support/headers.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::test {

struct response_head {
    int status = 0;
    std::string reason;
    header_map headers;
};

// Parses `head`: everything before the blank line, lines ending in "\r\n". nullopt if the status line
// is not "HTTP/1.x NNN ..." or a field line has no colon.
std::optional<response_head> parse_response_head(std::string_view head);

}  // namespace switchboard::test
