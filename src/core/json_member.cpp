#include "core/json_member.hpp"

#include <nlohmann/json.hpp>

namespace switchboard::detail {
namespace {

constexpr auto npos = std::string_view::npos;

std::size_t skip_whitespace(std::string_view s, std::size_t i) noexcept
{
    auto const next = s.find_first_not_of(" \t\n\r", i);
    return next == npos ? s.size() : next;
}

// From an opening quote to just past the closing one.
std::size_t skip_string(std::string_view s, std::size_t i) noexcept
{
    for (++i;; i += 2) {  // past a backslash and the character it escapes (\uXXXX's digits are plain text)
        i = s.find_first_of("\"\\", i);
        if (i == npos)
            return s.size();
        if (s[i] == '"')
            return i + 1;
    }
}

// From a value's first character to just past its last.
std::size_t skip_value(std::string_view s, std::size_t i) noexcept
{
    if (i >= s.size())
        return s.size();
    if (s[i] == '"')
        return skip_string(s, i);
    if (s[i] != '{' && s[i] != '[') {  // a number, true, false or null
        auto const end = s.find_first_of(" \t\n\r,]}", i);
        return end == npos ? s.size() : end;
    }
    // Brackets inside strings are text: only those outside count.
    std::size_t depth = 0;
    while ((i = s.find_first_of("\"[]{}", i)) != npos) {
        char const c = s[i];
        if (c == '"') {
            i = skip_string(s, i);
            continue;
        }
        ++i;
        if (c == '[' || c == '{')
            ++depth;
        else if (depth <= 1)
            return i;
        else
            --depth;
    }
    return s.size();
}

// `quoted` is a key with its quotes. A parser compares keys unescaped, so does this.
bool key_is(std::string_view quoted, std::string_view key)
{
    if (quoted.size() < 2)
        return false;
    auto const raw = quoted.substr(1, quoted.size() - 2);
    if (raw.find('\\') == npos)
        return raw == key;
    auto const parsed = nlohmann::json::parse(quoted, nullptr, /*allow_exceptions=*/false);
    return parsed.is_string() && parsed.get_ref<std::string const&>() == key;
}

}  // namespace

member_text find_member(std::string_view s, std::string_view key)
{
    member_text out;
    std::size_t i = s.starts_with("\xEF\xBB\xBF") ? 3 : 0;  // a parser skips a byte order mark
    i = skip_whitespace(s, i);
    if (i >= s.size() || s[i] != '{')
        return out;
    for (++i;; ++i) {
        i = skip_whitespace(s, i);
        if (i >= s.size() || s[i] != '"')  // '}': the object ends
            return out;
        auto const key_end = skip_string(s, i);
        bool const wanted = key_is(s.substr(i, key_end - i), key);
        i = skip_whitespace(s, key_end);
        if (i >= s.size() || s[i] != ':')
            return out;
        i = skip_whitespace(s, i + 1);
        auto const value_end = skip_value(s, i);
        if (wanted) {
            out.value = s.substr(i, value_end - i);
            ++out.count;
        }
        i = skip_whitespace(s, value_end);
        if (i >= s.size() || s[i] != ',')
            return out;
    }
}

}  // namespace switchboard::detail
