#include "security/namespace_rules.hpp"

#include "core/topic_namespace.hpp"

#include <switchboard/error.hpp>

namespace switchboard::detail {

namespace {

bool carries(enabled_transports const& t, std::string_view transport) noexcept
{
    return transport.empty() || (transport == "websocket" && t.websocket) || (transport == "sse" && t.sse) ||
           (transport == "long-polling" && t.long_polling);
}

// Why `ns` refuses `who` the action on its topics, or nothing.
namespace_refusal refuses(namespace_options const& ns, authorize_request::kind action, identity const& who,
                          std::string_view transport)
{
    bool const subscribing = action == authorize_request::kind::subscribe;
    auto const access = subscribing ? ns.subscribe : ns.publish;
    char const* const verb = subscribing ? "subscribe to" : "publish to";
    if (access == namespace_access::nobody)
        return {error::forbidden, std::string("clients may not ") + verb + " topics of namespace " + ns.name};
    if (access == namespace_access::users && !who.authenticated)
        return {error::forbidden, std::string("only clients with a token may ") + verb + " topics of namespace " + ns.name};
    if (subscribing && !carries(ns.transports, transport))
        return {error::forbidden, "topics of namespace " + ns.name + " are not delivered over " + std::string(transport)};
    return {};
}

}  // namespace

namespace_refusal namespace_refuses(std::vector<namespace_options> const& namespaces, authorize_request::kind action,
                                    std::string_view topic, bool pattern, identity const& who,
                                    std::string_view transport)
{
    auto const match = match_namespace(namespaces, topic, pattern);
    switch (match.what) {
    case namespace_match::kind::plain:
        return {};
    case namespace_match::kind::unknown:
        return {error::unknown_namespace, "this server has no namespace " + std::string(match.name)};
    case namespace_match::kind::known:
        return refuses(*match.options, action, who, transport);
    case namespace_match::kind::any:
        for (auto const& ns : namespaces)
            if (auto r = refuses(ns, action, who, transport))
                return {r.ec, r.message + "; this pattern may reach them: name a namespace before its wildcard"};
        return {};
    }
    return {};
}

namespace_refusal presence_refused(std::vector<namespace_options> const& namespaces, std::string_view topic)
{
    auto const* ns = find_namespace(namespaces, topic);
    if (ns && !ns->presence)
        return {error::presence_unavailable, "presence is off in namespace " + ns->name};
    return {};
}

bool join_leave_delivered(std::vector<namespace_options> const& namespaces, std::string_view topic) noexcept
{
    auto const* ns = find_namespace(namespaces, topic);
    return !ns || (ns->presence && ns->join_leave);
}

}  // namespace switchboard::detail
