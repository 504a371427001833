#pragma once
// What a namespace (server_options::namespaces) allows a client: to subscribe or publish to its topics (its
// access rules, the transport), and presence in them. The authorizer asks before the topic permissions, so a
// namespace's refusal comes first and says which rule refused.

#include <switchboard/hooks.hpp>
#include <switchboard/identity.hpp>
#include <switchboard/server_options.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::detail {

/// A namespace's refusal: the error, and the message that names the rule.
struct namespace_refusal {
    boost::system::error_code ec;
    std::string message;

    explicit operator bool() const noexcept { return static_cast<bool>(ec); }
};

/// Whether `who` may subscribe to or publish on `topic` (a pattern when `pattern`: every namespace it may reach
/// must allow it) over `transport` (a channel's; "" when no channel asks: POST /publish, GET /presence).
/// unknown_namespace for a namespace the server does not have, forbidden for a rule that refuses.
namespace_refusal namespace_refuses(std::vector<namespace_options> const& namespaces, authorize_request::kind action,
                                    std::string_view topic, bool pattern, identity const& who,
                                    std::string_view transport);

/// presence_unavailable when `topic`'s namespace has presence off.
namespace_refusal presence_refused(std::vector<namespace_options> const& namespaces, std::string_view topic);

/// Whether `topic`'s join and leave events are delivered (its namespace's join_leave, with presence on).
bool join_leave_delivered(std::vector<namespace_options> const& namespaces, std::string_view topic) noexcept;

}  // namespace switchboard::detail
