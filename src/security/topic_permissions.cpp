#include "security/topic_permissions.hpp"

#include <nlohmann/json.hpp>

namespace switchboard::detail {
namespace {

// A claim that is there restricts; one that is not a list of strings allows nothing (a malformed grant
// must not widen access).
bool claim_allows(nlohmann::json const& claims, char const* name, std::string_view topic)
{
    auto const it = claims.find(name);
    if (it == claims.end())
        return true;
    if (!it->is_array())
        return false;
    for (auto const& p : *it)
        if (p.is_string() && topic_matches(p.get_ref<std::string const&>(), topic))
            return true;
    return false;
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

bool may_publish(security_options const& options, identity const& who, std::string_view topic)
{
    if (!who.authenticated)
        return any_matches(options.anonymous_publish, topic);
    return any_matches(options.user_publish, topic) && claim_allows(who.claims, publish_claim, topic);
}

}  // namespace switchboard::detail
