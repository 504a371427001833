#include "json_input.hpp"

#include <switchboard/error.hpp>

#include <algorithm>

namespace switchboard::detail {
namespace {

// Deepest nesting of arrays and objects in `text`, counting brackets outside strings. Exact for valid JSON,
// and cheap enough to run before the parser: bounding depth first means nothing later recurses deeply.
std::size_t nesting(std::string_view text) noexcept
{
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{')
            deepest = std::max(deepest, ++depth);
        else if ((c == ']' || c == '}') && depth > 0)
            --depth;
    }
    return deepest;
}

}  // namespace

boost::system::error_code parse_json(std::string_view text, nlohmann::json& out)
{
    if (nesting(text) > max_json_depth)
        return error::invalid_json;
    out = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded())
        return error::invalid_json;
    return {};
}

}  // namespace switchboard::detail
