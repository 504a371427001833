#pragma once
// The tests' own reading of where the top-level members of a JSON object lie in its text: recursive, character by
// character, written apart from src/core/json_member.cpp so that the models of the WebSocket protocol do not lean on
// the code they check. Header-only.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {

namespace json_members_detail {

inline std::size_t skip_space(std::string_view s, std::size_t i)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        ++i;
    return i;
}

// From a value's first character to just past its last.
inline std::size_t value_end(std::string_view s, std::size_t i)
{
    if (s[i] == '"') {
        for (++i; s[i] != '"'; i += s[i] == '\\' ? 2 : 1) {
        }
        return i + 1;
    }
    if (s[i] == '[' || s[i] == '{') {
        bool const object = s[i] == '{';
        i = skip_space(s, i + 1);
        while (s[i] != (object ? '}' : ']')) {
            if (object)
                i = skip_space(s, skip_space(s, value_end(s, i)) + 1);  // the key and its ':'
            i = skip_space(s, value_end(s, i));
            if (s[i] == ',')
                i = skip_space(s, i + 1);
        }
        return i + 1;
    }
    while (i < s.size() && std::string_view(" \t\n\r,]}").find(s[i]) == std::string_view::npos)
        ++i;
    return i;
}

}  // namespace json_members_detail

/// The text of each top-level member of `object` named `key` (compared unescaped), in order, each from its value's
/// first character to its last. `object` must be valid JSON text holding an object (a byte order mark before it is
/// skipped, as parsers do), nested no deeper than a few hundred levels.
inline std::vector<std::string_view> member_values(std::string_view object, std::string const& key)
{
    using namespace json_members_detail;
    std::vector<std::string_view> out;
    std::size_t i = skip_space(object, object.starts_with("\xEF\xBB\xBF") ? 3 : 0) + 1;  // past '{'
    for (i = skip_space(object, i); object[i] != '}';) {
        auto const key_end = value_end(object, i);
        bool const wanted = nlohmann::json::parse(object.substr(i, key_end - i)) == key;
        i = skip_space(object, skip_space(object, key_end) + 1);  // past ':'
        auto const end = value_end(object, i);
        if (wanted)
            out.push_back(object.substr(i, end - i));
        i = skip_space(object, end);
        if (object[i] == ',')
            i = skip_space(object, i + 1);
    }
    return out;
}

}  // namespace switchboard::test
