#include "security/authenticator.hpp"

#include "core/hook_guard.hpp"
#include "security/authorizer.hpp"
#include "security/jwt_verifier.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <memory>

namespace switchboard::detail {

namespace {

// Why `who`'s server-side subscriptions cannot be made (empty when they can): more than a channel may hold, or a
// name that is no topic. Checked before the client is let in, so that a bad claim is a clear refusal at connect.
std::string server_topics_problem(identity const& who, std::size_t max_subscriptions)
{
    if (who.topics.size() > max_subscriptions)
        return "the token names " + std::to_string(who.topics.size()) + " topics to subscribe to; at most " +
               std::to_string(max_subscriptions) + " are allowed";
    for (auto const& topic : who.topics)
        if (!is_valid_topic(topic))
            return "the token's topics to subscribe to name an invalid topic";
    return {};
}

// The JWT's "topics" claim (server-side subscriptions) into `who.topics`: false when it is not a list of strings.
bool read_topics_claim(identity& who)
{
    auto const it = who.claims.find("topics");
    if (it == who.claims.end())
        return true;
    if (!it->is_array())
        return false;
    for (auto const& topic : *it) {
        if (!topic.is_string())
            return false;
        who.topics.push_back(topic.get<std::string>());
    }
    return true;
}

}  // namespace

void authenticate(authorizer& policy, http_request const* req, std::string_view token,
                  std::string const& remote_address, std::string_view transport, authenticated_handler done)
{
    auto const& options = policy.options().security;
    if (!policy.authentication_configured())
        return done({}, {}, identity::anonymous());

    identity verified;
    bool const checked = policy.jwt().configured() && !token.empty();
    if (checked) {
        std::string why;
        if (auto ec = policy.jwt().verify(token, std::chrono::system_clock::now(), verified, why))
            return done(ec, why, nullptr);
        if (!read_topics_claim(verified))
            return done(error::unauthorized, "the token's topics claim is not a list of topic names", nullptr);
    }
    auto const max_subscriptions = policy.options().max_subscriptions;
    if (!policy.hooks().authenticate) {
        if (checked) {
            if (auto why = server_topics_problem(verified, max_subscriptions); !why.empty())
                return done(error::unauthorized, why, nullptr);
            return done({}, {}, std::make_shared<identity const>(std::move(verified)));
        }
        if (options.allow_anonymous)
            return done({}, {}, identity::anonymous());
        return done(error::unauthorized, "a token is required", nullptr);
    }

    // The hook decides; its answer may come later, and must come once. A hook that throws refuses.
    auto once = std::make_shared<authenticated_handler>(std::move(done));
    auth_handler answer = [once, anonymous_ok = options.allow_anonymous, max_subscriptions](
                              boost::system::error_code ec, identity who, std::string reason) {
        if (!*once)
            return;
        auto finish = std::move(*once);
        *once = nullptr;
        if (ec)
            return finish(ec, reason, nullptr);
        if (!who.authenticated && !anonymous_ok)
            return finish(error::unauthorized, "a token is required", nullptr);
        if (auto why = server_topics_problem(who, max_subscriptions); !why.empty())
            return finish(error::unauthorized, why, nullptr);
        finish({}, {}, who.authenticated ? std::make_shared<identity const>(std::move(who)) : identity::anonymous());
    };
    // A value the hook may keep: the request's head (its body, a POST /publish's message, is on_publish's).
    auth_request request{req ? std::make_shared<http_request const>(http_request::header_type(*req)) : nullptr,
                         std::string(token), checked ? std::optional<identity>(std::move(verified)) : std::nullopt,
                         remote_address, std::string(transport)};
    auto ec = guarded("authenticate", [&] {
        policy.hooks().authenticate(request, answer);
        return boost::system::error_code{};
    });
    if (ec && *once) {
        auto finish = std::move(*once);
        *once = nullptr;
        finish(ec, std::string(), nullptr);
    }
}

}  // namespace switchboard::detail
