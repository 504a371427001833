#include "security/authenticator.hpp"

#include "core/hook_guard.hpp"
#include "security/authorizer.hpp"
#include "security/jwt_verifier.hpp"

#include <switchboard/error.hpp>

#include <memory>

namespace switchboard::detail {

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
    }
    if (!policy.hooks().authenticate) {
        if (checked)
            return done({}, {}, std::make_shared<identity const>(std::move(verified)));
        if (options.allow_anonymous)
            return done({}, {}, identity::anonymous());
        return done(error::unauthorized, "a token is required", nullptr);
    }

    // The hook decides; its answer may come later, and must come once. A hook that throws refuses.
    auto once = std::make_shared<authenticated_handler>(std::move(done));
    auth_handler answer = [once, anonymous_ok = options.allow_anonymous](boost::system::error_code ec, identity who,
                                                                         std::string reason) {
        if (!*once)
            return;
        auto finish = std::move(*once);
        *once = nullptr;
        if (ec)
            return finish(ec, reason, nullptr);
        if (!who.authenticated && !anonymous_ok)
            return finish(error::unauthorized, "a token is required", nullptr);
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
