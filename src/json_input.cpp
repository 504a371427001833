#include "json_input.hpp"

#include <switchboard/error.hpp>

namespace switchboard::detail {

boost::system::error_code parse_json(std::string_view text, nlohmann::json& out)
{
    bool too_deep = false;
    auto const guard = [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > static_cast<int>(max_json_depth))
            too_deep = true;
        return !too_deep;
    };
    out = nlohmann::json::parse(text.begin(), text.end(), guard, /*allow_exceptions=*/false);
    if (too_deep || out.is_discarded())
        return error::invalid_json;
    return {};
}

}  // namespace switchboard::detail
