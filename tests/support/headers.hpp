#pragma once
// Header containers shared by the test clients.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::test {

// Extra request headers, sent in this order; a name may repeat.
using header_list = std::vector<std::pair<std::string, std::string>>;

// Orders field names ignoring ASCII case: HTTP field names are case-insensitive,
// so `headers.find("content-type")` finds "Content-Type".
struct case_insensitive_less {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept;
};

// True when two field names are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

// Response headers by name. A field that repeats keeps its values joined with ", ".
using header_map = std::map<std::string, std::string, case_insensitive_less>;

// Adds one field to `headers`, joining a repeated name's values with ", ".
void add_header(header_map& headers, std::string_view name, std::string_view value);

}  // namespace switchboard::test
