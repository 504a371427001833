#pragma once
// Reading an HTTP/1.1 response head: the status code and a header's value.

#include <string>
#include <string_view>

namespace loadgen {

/// Whether `line` starts with `name`, ignoring ASCII case.
bool iequals_prefix(std::string_view line, std::string_view name);

/// The value of header `name` (case-insensitive) in a response head, leading spaces removed; "" when absent.
std::string header_value(std::string_view head, std::string_view name);

/// The status code of "HTTP/1.1 200 OK"; 0 when `head` is not a status line.
int status_code(std::string_view head);

}  // namespace loadgen
