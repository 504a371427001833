#include "http/exchange.hpp"

#include "core/client_address.hpp"
#include "http/http_responses.hpp"
#include "http/request_token.hpp"
#include "security/authenticator.hpp"
#include "security/origin_policy.hpp"
#include "server_context.hpp"

#include <switchboard/error.hpp>

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

namespace switchboard::detail {

channel_services& exchange::services() const noexcept
{
    return ctx_;
}

namespace http = boost::beast::http;

namespace {

// A GET route answers HEAD too (RFC 9110 9.3.2).
bool allows(std::vector<http::verb> const& methods, http::verb m)
{
    auto const has = [&](http::verb v) { return std::find(methods.begin(), methods.end(), v) != methods.end(); };
    return has(m) || (m == http::verb::head && has(http::verb::get));
}

std::string allow_list(std::vector<http::verb> const& methods)
{
    std::string out;
    for (auto m : {http::verb::get, http::verb::head, http::verb::post, http::verb::put, http::verb::delete_,
                   http::verb::patch, http::verb::options}) {
        if (!allows(methods, m))
            continue;
        if (!out.empty())
            out += ", ";
        out += std::string(http::to_string(m));
    }
    return out;
}

}  // namespace

void exchange::finish_answer(http_response& res, http_request const* req, std::string const& cors_origin)
{
    if (req && req->method() == http::verb::head)
        res.body().clear();  // Content-Length still says what a GET would get (RFC 9110 9.3.2)
    if (!cors_origin.empty())
        add_cors_fields(res, cors_origin);
}

std::string const& exchange::cors_origin() const noexcept
{
    static std::string const none;
    return cors_origin_ ? *cors_origin_ : none;
}

std::string exchange::client_ip() const
{
    return std::string(detail::client_ip(remote_address()));
}

void exchange::dispatch()
{
    auto& req = request();
    if (req.target() == "*")
        return answer_options();
    if (!req.target().starts_with('/'))
        return respond_error(error::bad_request, "the request target must be a path or an http(s) URL");
    std::string_view path;
    if (auto ec = parse_target(req.target(), path, request_query(), max_parameters(ctx_.options.max_subscriptions)))
        return respond_error(ec, "malformed request target, or too many parameters");
    auto const it = ctx_.routes.find(std::string(path));
    if (it == ctx_.routes.end())
        return respond_error(error::not_found, "no such path: " + std::string(path));
    auto const& r = it->second;
    if (!r.secured_as.empty()) {
        switch (check_origin(ctx_.options.security, req)) {
        case origin_verdict::refused:
            return respond_error(error::origin_not_allowed,
                                 "origin not allowed: " + std::string(req[http::field::origin].substr(0, 128)));
        case origin_verdict::allowed:
            cors_origin_ = std::make_unique<std::string>(req[http::field::origin]);
            if (is_preflight(req)) {
                auto methods = r.methods;
                methods.push_back(http::verb::options);
                return respond(preflight_response(req, methods));
            }
            break;
        default:
            break;
        }
    }
    if (!allows(r.methods, req.method())) {
        ctx_.metrics.count_error(error_name(error::method_not_allowed));
        auto res = error_response(req, error::method_not_allowed);
        res.set(http::field::allow, allow_list(r.methods));
        return respond(std::move(res));
    }
    if (r.secured_as.empty())
        return run(r);
    auto const token = find_token(req, parameters(), ctx_.options.security.token_cookie);
    authenticate(ctx_.authorizer, &req, token, remote_address(), r.secured_as,
                 [self = shared_from_this(), &r](boost::system::error_code ec, std::string const& why, identity_ptr who) {
                     if (ec)
                         return self->respond_error(ec, why);
                     self->identity_ = std::move(who);
                     self->run(r);
                 });
}

void exchange::answer_options()
{
    // The asterisk form asks about the server itself, and only OPTIONS may use it (RFC 9112 3.2.4).
    auto const& req = request();
    if (req.method() != http::verb::options)
        return respond_error(error::bad_request, "only OPTIONS may have * as its target");
    std::vector<http::verb> every{http::verb::options};
    for (auto const& [path, r] : ctx_.routes)
        every.insert(every.end(), r.methods.begin(), r.methods.end());
    http_response res{http::status::no_content, req.version()};
    res.set(http::field::server, "switchboard");
    res.set(http::field::allow, allow_list(every));
    res.keep_alive(req.keep_alive());
    respond(std::move(res));
}

void exchange::run(route const& r)
{
    // Nothing escapes a completion handler: a route that throws answers 500 and the server goes on.
    try {
        r.action(shared_from_this());
    } catch (std::exception const& e) {
        auto const& req = request();
        spdlog::error("request {} {} failed: {}", std::string(http::to_string(req.method())),
                      std::string(req.target().substr(0, 256)), e.what());
        respond_error(error::internal_error);
    }
}

void exchange::respond_error(boost::system::error_code ec, std::string_view message)
{
    ctx_.metrics.count_error(error_name(ec));
    auto res = error_response(request(), ec, message);
    if (ec == error::unauthorized || ec == error::token_expired)
        res.set(http::field::www_authenticate, ec == error::token_expired
                                                   ? R"(Bearer error="invalid_token", error_description="token expired")"
                                                   : "Bearer");
    respond(std::move(res));
}

void exchange::respond_rate_limited(std::chrono::milliseconds retry_after)
{
    ctx_.metrics.count_error(error_name(error::rate_limited));
    auto const seconds = std::max<std::int64_t>(1, (retry_after.count() + 999) / 1000);
    auto res = error_response(request(), error::rate_limited,
                              "too many requests; retry in " + std::to_string(retry_after.count()) + " ms");
    res.set(http::field::retry_after, std::to_string(seconds));
    respond(std::move(res));
}

}  // namespace switchboard::detail
