#include "proxy/proxy_hooks.hpp"

#include "core/topic_namespace.hpp"
#include "http/request_token.hpp"
#include "proxy/backend_client.hpp"
#include "proxy/proxy_answer.hpp"

#include <switchboard/error.hpp>
#include <switchboard/message.hpp>

#include <boost/beast/core/string.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace switchboard::detail {

namespace {

using nlohmann::ordered_json;

// What every proxy hook shares: the options, their URLs taken apart, the one client.
struct proxy : std::enable_shared_from_this<proxy> {
    proxy_options options;
    std::optional<backend_url> connect, refresh, subscribe, publish;
    // Namespaces with URLs of their own (a copy: the server's options may be reloaded meanwhile).
    struct namespace_urls {
        std::optional<backend_url> subscribe, publish;
    };
    std::vector<namespace_options> namespaces;
    std::vector<namespace_urls> namespace_url;  // by the index in `namespaces`
    std::shared_ptr<backend_client> client;
    std::chrono::steady_clock::time_point last_warning{};

    // The URL that decides `step` (subscribe or publish) for `topic`: its namespace's, else the server's; null
    // when neither has one.
    backend_url const* url_for(std::string_view topic, bool pattern, bool subscribing) const
    {
        auto const match = match_namespace(namespaces, topic, pattern);
        if (match.options) {
            auto const& own = namespace_url[static_cast<std::size_t>(match.options - namespaces.data())];
            if (auto const& url = subscribing ? own.subscribe : own.publish)
                return &*url;
        }
        auto const& url = subscribing ? subscribe : publish;
        return url ? &*url : nullptr;
    }

    // Asks `url` with `body`; `done` gets the answer read, or backend_unavailable. A failing backend is logged
    // at most once a second: every client's request fails with it, and the log must not become the flood.
    void ask(backend_url const& url, std::string body, bool idempotent, std::function<void(proxy_answer)> done)
    {
        client->post(url, std::move(body), options.timeout, idempotent,
                     [self = shared_from_this(), &url, done = std::move(done)](
                         boost::system::error_code ec, backend_client::answer a, std::string const& why) {
                         proxy_answer answer;
                         if (ec) {
                             answer.refused = ec;
                             answer.message = why;
                         } else {
                             answer = read_proxy_answer(a.status, a.body);
                         }
                         if (answer.refused == error::backend_unavailable) {
                             auto const now = std::chrono::steady_clock::now();
                             if (now - self->last_warning >= std::chrono::seconds(1)) {
                                 self->last_warning = now;
                                 spdlog::warn("proxy backend http://{}{}: {}", url.authority, url.target,
                                              answer.message);
                             }
                             answer.message.clear();  // the backend's trouble is the operator's, not the client's
                         }
                         done(std::move(answer));
                     });
    }
};

std::optional<backend_url> parse(std::string const& url, char const* key)
{
    if (url.empty())
        return std::nullopt;
    std::string why;
    auto parsed = parse_backend_url(url, why);
    if (!parsed)
        throw std::invalid_argument(std::string(key) + ": " + why);
    return parsed;
}

// The connect request: who the client says it is, and what of its HTTP request the options forward.
std::string connect_body(proxy_options const& options, auth_request const& r)
{
    ordered_json body = {{"transport", r.transport}, {"remote_address", r.remote_address}};
    if (!r.token.empty())
        body["token"] = r.token;
    if (r.verified)
        body["user"] = r.verified->user;
    if (r.request) {
        auto headers = ordered_json::object();
        for (auto const& name : options.headers) {
            std::string value;
            for (auto const& f : *r.request)
                if (boost::beast::iequals(f.name_string(), name))
                    value += value.empty() ? std::string(f.value()) : ", " + std::string(f.value());
            if (!value.empty())
                headers[name] = value;
        }
        auto cookies = ordered_json::object();
        for (auto const& name : options.cookies)
            for (auto const& f : *r.request)
                if (f.name() == boost::beast::http::field::cookie)
                    if (auto v = cookie_value(f.value(), name); !v.empty())
                        cookies[name] = std::string(v);
        if (!headers.empty())
            body["headers"] = std::move(headers);
        if (!cookies.empty())
            body["cookies"] = std::move(cookies);
    }
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The identity a connect or refresh answer makes: its user, expiry, presence info, server-side subscriptions and
// further claims.
std::optional<identity> answered_identity(nlohmann::json const& result, std::string& why)
{
    identity who;
    who.authenticated = true;
    if (auto u = result.find("user"); u != result.end()) {
        if (!u->is_string()) {
            why = "result.user is not a string";
            return std::nullopt;
        }
        who.user = u->get<std::string>();
    }
    if (auto c = result.find("claims"); c != result.end()) {
        if (!c->is_object()) {
            why = "result.claims is not an object";
            return std::nullopt;
        }
        who.claims = *c;
    }
    if (!who.user.empty())
        who.claims["sub"] = who.user;
    if (auto i = result.find("info"); i != result.end())
        who.claims["presence"] = *i;
    if (auto t = result.find("topics"); t != result.end()) {
        if (!t->is_array() || !std::all_of(t->begin(), t->end(), [](auto const& v) { return v.is_string(); })) {
            why = "result.topics is not a list of topic names";
            return std::nullopt;
        }
        who.topics = t->get<std::vector<std::string>>();
    }
    if (auto e = result.find("expire_at"); e != result.end() && !e->is_null()) {
        if (!e->is_number() || e->get<double>() <= 0) {
            why = "result.expire_at is not a positive number of seconds";
            return std::nullopt;
        }
        who.expires_at = std::chrono::system_clock::time_point(std::chrono::seconds(e->get<std::int64_t>()));
    }
    return who;
}

// Who asks: the channel (this node's id for it) and its transport, its address and its user.
void channel_fields(ordered_json& body, channel_ptr const& origin, identity const& who,
                    std::string const& remote_address, std::string_view transport)
{
    if (origin)
        body["channel"] = origin->id();
    body["transport"] = origin ? std::string(origin->transport()) : std::string(transport);
    body["remote_address"] = remote_address;
    body["user"] = who.user;
}

void install_authenticate(hooks& h, std::shared_ptr<proxy> const& p)
{
    auto previous = std::move(h.authenticate);
    h.authenticate = [p, previous](auth_request const& r, auth_handler done) {
        bool const refreshing = !r.request;
        auto const& url = refreshing ? p->refresh : p->connect;
        if (!url) {
            // A step without a URL: the application's hook, or the built-in check's result alone.
            if (previous)
                return previous(r, std::move(done));
            if (r.verified)
                return done({}, *r.verified);
            if (refreshing)
                return done(error::unauthorized, {}, "a refresh needs a token this server can verify");
            return done({}, identity{});  // anonymous, if the server allows it

        }
        p->ask(*url, connect_body(p->options, r), true, [done = std::move(done)](proxy_answer a) {
            if (a.refused)
                return done(a.refused, {}, a.message);
            std::string why;
            auto who = answered_identity(a.result, why);
            if (!who) {
                spdlog::warn("proxy backend: a connect answer cannot be used: {}", why);
                return done(error::backend_unavailable, {}, {});
            }
            done({}, std::move(*who));
        });
    };
}

void install_authorize(hooks& h, std::shared_ptr<proxy> const& p)
{
    auto previous = std::move(h.authorize);
    h.authorize = [p, previous](authorize_request const& r, decision_handler done) {
        auto const* url = r.action == authorize_request::kind::subscribe ? p->url_for(r.topic, r.pattern, true) : nullptr;
        if (!url) {
            if (previous)
                return previous(r, std::move(done));
            return done({});
        }
        ordered_json body = ordered_json::object();
        channel_fields(body, r.origin, *r.who, r.remote_address, "http");
        body["topic"] = r.topic;
        if (r.pattern)
            body["pattern"] = true;
        p->ask(*url, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), true,
               [done = std::move(done)](proxy_answer a) { done(a.refused, a.message); });
    };
}

void install_moderate(hooks& h, std::shared_ptr<proxy> const& p)
{
    auto previous = std::move(h.moderate);
    h.moderate = [p, previous](std::shared_ptr<publish_request> r, decision_handler done) {
        auto const* url = p->url_for(r->topic, false, false);
        if (!url) {
            if (previous)
                return previous(std::move(r), std::move(done));
            return done({});
        }
        ordered_json head = ordered_json::object();
        channel_fields(head, r->origin, *r->who, r->remote_address, "publish");
        head["topic"] = r->topic;
        // The data goes as the client sent it, byte for byte (JSON text inside JSON text); a binary payload as
        // its base64, under its own name.
        auto body = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        body.pop_back();
        auto const data = r->data();
        if (data.starts_with(message::binary_prefix))
            body += ",\"binary\":\"" + std::string(data.substr(message::binary_prefix.size())) + "\"}";
        else
            body += ",\"data\":" + std::string(data) + "}";
        // A publish is not sent twice: a backend that closed a kept connection is noticed before it is used.
        p->ask(*url, std::move(body), false, [r, done = std::move(done)](proxy_answer a) {
            if (a.refused)
                return done(a.refused, a.message);
            if (a.has_data)
                r->replace_data_text(std::move(a.data));
            done({});
        });
    };
}

}  // namespace

bool proxy_configured(proxy_options const& o, std::vector<namespace_options> const& namespaces) noexcept
{
    return !o.connect_url.empty() || !o.refresh_url.empty() || !o.subscribe_url.empty() || !o.publish_url.empty() ||
           std::any_of(namespaces.begin(), namespaces.end(),
                       [](auto const& ns) { return !ns.subscribe_url.empty() || !ns.publish_url.empty(); });
}

void install_proxy_hooks(hooks& h, proxy_options const& options, std::vector<namespace_options> const& namespaces,
                         boost::asio::any_io_executor ex)
{
    auto p = std::make_shared<proxy>();
    p->options = options;
    p->connect = parse(options.connect_url, "proxy.connect_url");
    p->refresh = parse(options.refresh_url, "proxy.refresh_url");
    p->subscribe = parse(options.subscribe_url, "proxy.subscribe_url");
    p->publish = parse(options.publish_url, "proxy.publish_url");
    p->namespaces = namespaces;
    bool any_subscribe = p->subscribe.has_value();
    bool any_publish = p->publish.has_value();
    for (auto const& ns : namespaces) {
        auto const key = "namespaces." + ns.name + ".";
        p->namespace_url.push_back({parse(ns.subscribe_url, (key + "subscribe_url").c_str()),
                                    parse(ns.publish_url, (key + "publish_url").c_str())});
        any_subscribe = any_subscribe || p->namespace_url.back().subscribe;
        any_publish = any_publish || p->namespace_url.back().publish;
    }
    p->client = std::make_shared<backend_client>(std::move(ex), std::max<std::size_t>(options.max_in_flight, 1),
                                                 options.max_idle_connections);
    if (p->connect || p->refresh)
        install_authenticate(h, p);
    if (any_subscribe)
        install_authorize(h, p);
    if (any_publish)
        install_moderate(h, p);
}

}  // namespace switchboard::detail
