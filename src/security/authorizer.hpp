#pragma once
// The security policy a server applies to what clients ask: who may subscribe or publish to a topic (the
// configured permissions, the token's claims, then the authorize hook), the rate limits on messages and
// connections, and the JWT verifier that authentication (authenticator.hpp) starts with. One per server; loop
// thread only. It reads the server's options as they are at each call, so a reload applies at once.

#include <switchboard/channel.hpp>
#include <switchboard/hooks.hpp>
#include <switchboard/identity.hpp>
#include <switchboard/server_options.hpp>

#include "security/namespace_rules.hpp"
#include "security/rate_limiter.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::detail {

class jwt_verifier;

class authorizer {
public:
    authorizer(server_options const& options, switchboard::hooks& hooks);
    ~authorizer();
    authorizer(authorizer const&) = delete;
    authorizer& operator=(authorizer const&) = delete;

    server_options const& options() const noexcept { return options_; }
    switchboard::hooks& hooks() const noexcept { return hooks_; }

    /// The JWT verifier built from options.security (one that verifies nothing when no key is set).
    jwt_verifier const& jwt() const noexcept { return *jwt_; }
    /// Rebuilds what is derived from options.security after a reload; a bad key keeps the previous one
    /// (logged), so a typo in a reload does not lock everybody out or let everybody in.
    void reload();
    /// True when the server requires or checks tokens (a JWT key or the authenticate hook).
    bool authentication_configured() const noexcept;

    /// Whether `who` may subscribe to / publish on `topic`: its namespace's rules (namespace_rules.hpp:
    /// unknown_namespace, or forbidden with the rule's message), the configured permissions and token claims
    /// (error::forbidden), then hooks.authorize. `done` runs once on the loop thread, maybe before this returns.
    /// With `pattern`, `topic` is a subscription pattern: the permissions must contain every topic it matches
    /// (may_subscribe_pattern), and the hook is asked with authorize_request::pattern set.
    void authorize(authorize_request::kind action, std::string const& topic, identity_ptr who, channel_ptr origin,
                   std::string const& remote_address, decision_handler done, bool pattern = false);
    /// The same for each of `topics` in turn; stops at the first refusal, whose topic goes to `refused_topic`
    /// and the hook's reason (if it gave one) to `reason`.
    using all_decided_handler = std::function<void(boost::system::error_code, std::string const& refused_topic,
                                                   std::string const& reason)>;
    void authorize_all(authorize_request::kind action, std::vector<std::string> topics, identity_ptr who,
                       channel_ptr origin, std::string const& remote_address, all_decided_handler done);

    /// One command or HTTP publish under the rate limits: the channel's own bucket (when `own`), then the
    /// user's (keyed by `who`'s user id, or by `address` when anonymous and `address` is not empty).
    /// error::rate_limited with the wait in `retry_after` when past one.
    boost::system::error_code take_message(channel_rate* own, identity const& who, std::string const& address,
                                           std::chrono::milliseconds& retry_after);
    /// One new connection from `address` (an IP) under security.address_connections: error::rate_limited with
    /// the wait in `retry_after` when past it.
    boost::system::error_code take_connection(std::string const& address, std::chrono::milliseconds& retry_after);

private:
    /// The decision without the hook: the namespace's rules, then the permissions (error::forbidden).
    namespace_refusal refuses(authorize_request::kind action, std::string_view topic, identity const& who,
                              channel const* origin, bool pattern) const;

    server_options const& options_;
    switchboard::hooks& hooks_;
    std::unique_ptr<jwt_verifier> jwt_;
    keyed_rate_limiter user_rates_;     // security.user_messages, by user id (or IP for anonymous POST /publish)
    keyed_rate_limiter address_rates_;  // security.address_connections, by IP
};

}  // namespace switchboard::detail
