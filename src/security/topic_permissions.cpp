#include "security/topic_permissions.hpp"

#include <nlohmann/json.hpp>

namespace switchboard::detail {
namespace {

// A claim that is there restricts; one that is not a list of strings allows nothing (a malformed grant
// must not widen access).
template <class Allows>
bool claim_allows(nlohmann::json const& claims, char const* name, std::string_view topic, Allows allows)
{
    auto const it = claims.find(name);
    if (it == claims.end())
        return true;
    if (!it->is_array())
        return false;
    for (auto const& p : *it)
        if (p.is_string() && allows(p.get_ref<std::string const&>(), topic))
            return true;
    return false;
}

bool claim_allows(nlohmann::json const& claims, char const* name, std::string_view topic)
{
    return claim_allows(claims, name, topic, topic_matches);
}

}  // namespace

bool topic_matches(std::string_view pattern, std::string_view topic) noexcept
{
    if (!pattern.empty() && pattern.back() == '*')
        return topic.starts_with(pattern.substr(0, pattern.size() - 1));
    return pattern == topic;
}

bool any_matches(topic_patterns const& patterns, std::string_view topic) noexcept
{
    for (auto const& p : patterns)
        if (topic_matches(p, topic))
            return true;
    return false;
}

bool may_subscribe(security_options const& options, identity const& who, std::string_view topic)
{
    if (!who.authenticated)
        return any_matches(options.anonymous_subscribe, topic);
    return any_matches(options.user_subscribe, topic) && claim_allows(who.claims, subscribe_claim, topic);
}

bool permission_contains(std::string_view permission, std::string_view pattern) noexcept
{
    if (permission.empty() || permission.back() != '*')
        return false;  // one topic, and a pattern matches infinitely many
    auto const prefix = permission.substr(0, permission.size() - 1);
    // Every topic of the pattern starts with its literal tokens before the first wildcard, each with its dot;
    // what follows may be any character, so the prefix must end within that fixed part.
    std::size_t fixed = 0;
    for (;;) {
        auto const dot = pattern.find('.', fixed);
        auto const token = pattern.substr(fixed, dot == std::string_view::npos ? std::string_view::npos : dot - fixed);
        if (token == "*" || token == ">" || dot == std::string_view::npos)
            break;
        fixed = dot + 1;
    }
    return pattern.substr(0, fixed).starts_with(prefix);
}

bool may_subscribe_pattern(security_options const& options, identity const& who, std::string_view pattern)
{
    auto const contained = [pattern](topic_patterns const& permissions) {
        for (auto const& p : permissions)
            if (permission_contains(p, pattern))
                return true;
        return false;
    };
    if (!who.authenticated)
        return contained(options.anonymous_subscribe);
    return contained(options.user_subscribe) &&
           claim_allows(who.claims, subscribe_claim, pattern, [](std::string_view p, std::string_view pat) {
               return permission_contains(p, pat);
           });
}

bool may_publish(security_options const& options, identity const& who, std::string_view topic)
{
    if (!who.authenticated)
        return any_matches(options.anonymous_publish, topic);
    return any_matches(options.user_publish, topic) && claim_allows(who.claims, publish_claim, topic);
}

}  // namespace switchboard::detail
