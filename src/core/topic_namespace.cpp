#include "core/topic_namespace.hpp"

#include <algorithm>

namespace switchboard {

std::string namespace_name_problem(std::string_view name)
{
    if (name.empty() || name.size() > 64)
        return "a namespace's name is 1-64 characters";
    auto const allowed = [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    };
    if (!std::all_of(name.begin(), name.end(), allowed))
        return "a namespace's name holds only A-Z a-z 0-9 _ -";
    return {};
}

namespace detail {

namespace_match match_namespace(std::vector<namespace_options> const& namespaces, std::string_view topic,
                                bool pattern) noexcept
{
    if (namespaces.empty())
        return {};
    auto const colon = topic.find(':');
    if (pattern) {
        // A wildcard token before the ':' (or with none at all) matches whatever a topic has there.
        auto const wildcard = std::min(topic.find('*'), topic.find('>'));
        if (wildcard != std::string_view::npos && wildcard < colon)
            return {namespace_match::kind::any, nullptr, {}};
    }
    if (colon == std::string_view::npos)
        return {};
    auto const name = topic.substr(0, colon);
    for (auto const& ns : namespaces)
        if (ns.name == name)
            return {namespace_match::kind::known, &ns, name};
    return {namespace_match::kind::unknown, nullptr, name};
}

}  // namespace detail
}  // namespace switchboard
