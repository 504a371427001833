#include "security/authorizer.hpp"

#include "core/hook_guard.hpp"
#include "security/jwt_verifier.hpp"
#include "security/namespace_rules.hpp"
#include "security/topic_permissions.hpp"

#include <switchboard/error.hpp>

#include <spdlog/spdlog.h>

#include <exception>

namespace switchboard::detail {

authorizer::authorizer(server_options const& options, switchboard::hooks& hooks)
    : options_(options), hooks_(hooks), jwt_(std::make_unique<jwt_verifier>(options.security))
{
}

authorizer::~authorizer() = default;

void authorizer::reload()
{
    try {
        jwt_ = std::make_unique<jwt_verifier>(options_.security);
    } catch (std::exception const& e) {
        spdlog::error("reload: {}; keeping the previous JWT keys", e.what());
    }
}

bool authorizer::authentication_configured() const noexcept
{
    return jwt_->configured() || static_cast<bool>(hooks_.authenticate);
}

boost::system::error_code authorizer::take_message(channel_rate* own, identity const& who, std::string const& address,
                                                   std::chrono::milliseconds& retry_after)
{
    auto const& s = options_.security;
    auto const now = rate_clock::now();
    if (own && !own->bucket.take(s.channel_messages, now, retry_after))
        return error::rate_limited;
    std::string const* key = who.authenticated ? &who.user : (address.empty() ? nullptr : &address);
    if (key && !user_rates_.take(who.authenticated ? "user:" + *key : "ip:" + *key, s.user_messages, s.max_rate_keys,
                                 now, retry_after))
        return error::rate_limited;
    return {};
}

boost::system::error_code authorizer::take_connection(std::string const& address,
                                                      std::chrono::milliseconds& retry_after)
{
    auto const& s = options_.security;
    if (!address_rates_.take(address, s.address_connections, s.max_rate_keys, rate_clock::now(), retry_after))
        return error::rate_limited;
    return {};
}

namespace_refusal authorizer::refuses(authorize_request::kind action, std::string_view topic, identity const& who,
                                     channel const* origin, bool pattern) const
{
    // The namespace's rules first: their refusal names the rule, where the permissions' only says forbidden.
    if (auto refused = namespace_refuses(options_.namespaces, action, topic, pattern, who,
                                         origin ? origin->transport() : std::string_view()))
        return refused;
    bool const subscribing = action == authorize_request::kind::subscribe;
    bool const allowed = pattern       ? subscribing && may_subscribe_pattern(options_.security, who, topic)
                         : subscribing ? may_subscribe(options_.security, who, topic)
                                       : may_publish(options_.security, who, topic);
    if (!allowed)
        return {error::forbidden, {}};
    return {};
}

void authorizer::authorize(authorize_request::kind action, std::string const& topic, identity_ptr who,
                           channel_ptr origin, std::string const& remote_address, decision_handler done, bool pattern)
{
    if (auto refused = refuses(action, topic, *who, origin.get(), pattern))
        return done(refused.ec, std::move(refused.message));
    if (!hooks_.authorize)
        return done({});
    // The hook may answer later and must answer once.
    auto once = std::make_shared<decision_handler>(std::move(done));
    decision_handler answer = [once](boost::system::error_code ec, std::string reason) {
        if (!*once)
            return;
        auto finish = std::move(*once);
        *once = {};
        finish(ec, std::move(reason));
    };
    authorize_request request{action, topic, who, origin, remote_address, pattern};
    auto ec = guarded("authorize", [&] {
        hooks_.authorize(request, answer);
        return boost::system::error_code{};
    });
    if (ec && *once) {
        auto finish = std::move(*once);
        *once = {};
        finish(ec);
    }
}

namespace {

// Authorizes topics one after the other. Decisions usually come at once, so it loops rather than recursing
// (a request may name many topics); one that comes later resumes the loop.
struct authorize_chain : std::enable_shared_from_this<authorize_chain> {
    authorizer& policy;
    authorize_request::kind action;
    std::vector<std::string> topics;
    identity_ptr who;
    channel_ptr origin;
    std::string remote_address;
    authorizer::all_decided_handler done;
    std::size_t next = 0;
    bool pending = false;
    bool inside = false;
    bool failed = false;

    authorize_chain(authorizer& p, authorize_request::kind a, std::vector<std::string> t, identity_ptr w,
                    channel_ptr o, std::string r, authorizer::all_decided_handler d)
        : policy(p), action(a), topics(std::move(t)), who(std::move(w)), origin(std::move(o)),
          remote_address(std::move(r)), done(std::move(d))
    {
    }

    void run()
    {
        while (!failed) {
            if (next == topics.size())
                return done({}, std::string(), std::string());
            std::size_t const i = next++;
            pending = true;
            inside = true;
            policy.authorize(action, topics[i], who, origin, remote_address,
                             [self = shared_from_this(), i](boost::system::error_code ec, std::string reason) {
                                 self->pending = false;
                                 if (ec) {
                                     self->failed = true;
                                     return self->done(ec, self->topics[i], reason);
                                 }
                                 if (!self->inside)
                                     self->run();
                             });
            inside = false;
            if (pending)
                return;
        }
    }
};

}  // namespace

void authorizer::authorize_all(authorize_request::kind action, std::vector<std::string> topics, identity_ptr who,
                               channel_ptr origin, std::string const& remote_address, all_decided_handler done)
{
    if (!hooks_.authorize) {
        // Every decision is made now: no chain to keep (a long poll asks this at every request).
        for (auto const& topic : topics)
            if (auto refused = refuses(action, topic, *who, origin.get(), false))
                return done(refused.ec, topic, refused.message);
        return done({}, std::string(), std::string());
    }
    std::make_shared<authorize_chain>(*this, action, std::move(topics), std::move(who), std::move(origin),
                                      remote_address, std::move(done))
        ->run();
}

}  // namespace switchboard::detail
