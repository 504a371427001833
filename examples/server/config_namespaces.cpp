#include "config_namespaces.hpp"

#include "config_keys.hpp"
#include "config_values.hpp"

#include <switchboard/proxy_options.hpp>

#include <algorithm>

namespace switchboard_server {

namespace {

using nlohmann::json;

parsed<switchboard::namespace_access> parse_access(json const& v)
{
    if (v == "everyone")
        return {switchboard::namespace_access::everyone, {}};
    if (v == "users")
        return {switchboard::namespace_access::users, {}};
    if (v == "nobody")
        return {switchboard::namespace_access::nobody, {}};
    return {{}, "expected \"everyone\", \"users\" or \"nobody\", got " + show(v)};
}

// One namespace's history: the rule for its prefix, from the server-wide limits.
void read_history(json const& v, std::string const& at, std::string const& origin,
                  switchboard::history_options::prefix_rule& rule, std::vector<config_error>& errors)
{
    if (!v.is_object()) {
        errors.push_back({at, "expected an object {\"max_messages\", \"max_age\"}, got " + show(v), origin});
        return;
    }
    for (auto const& [name, item] : v.items()) {
        auto const path = at + "." + name;
        if (!read_history_limit(name, item, path, origin, rule.limits, errors))
            errors.push_back({path, "unknown key (a namespace's history has max_messages and max_age)", origin});
    }
}

}  // namespace

void apply_namespaces(json const& value, std::string const& origin, switchboard::server_options& server,
                      std::vector<config_error>& errors)
{
    if (!value.is_object()) {
        errors.push_back({"namespaces", "expected an object of namespaces by name, got " + show(value), origin});
        return;
    }
    auto const before = errors.size();
    std::vector<switchboard::namespace_options> namespaces;
    auto overrides = server.history.overrides;
    for (auto const& [name, options] : value.items()) {
        auto const at = "namespaces." + name;
        if (auto why = switchboard::namespace_name_problem(name); !why.empty()) {
            errors.push_back({at, why, origin});
            continue;
        }
        if (!options.is_object()) {
            errors.push_back({at, "expected an object of the namespace's options, got " + show(options), origin});
            continue;
        }
        switchboard::namespace_options ns;
        ns.name = name;
        for (auto const& [key, v] : options.items()) {
            auto const path = at + "." + key;
            auto const fail = [&](std::string const& why) { errors.push_back({path, why, origin}); };
            if (key == "subscribe" || key == "publish") {
                auto const a = parse_access(v);
                a ? void((key == "subscribe" ? ns.subscribe : ns.publish) = a.value) : fail(a.error);
            } else if (key == "presence" || key == "join_leave") {
                auto const b = parse_boolean(v);
                b ? void((key == "presence" ? ns.presence : ns.join_leave) = b.value) : fail(b.error);
            } else if (key == "transports") {
                auto const t = parse_transports(v);
                t ? void(ns.transports = t.value) : fail(t.error);
            } else if (key == "subscribe_url" || key == "publish_url") {
                if (!v.is_string()) {
                    fail("expected a URL (a string), got " + show(v));
                } else if (auto why = switchboard::proxy_url_problem(v.get<std::string>()); !why.empty()) {
                    fail(why);
                } else {
                    (key == "subscribe_url" ? ns.subscribe_url : ns.publish_url) = v.get<std::string>();
                }
            } else if (key == "history") {
                switchboard::history_options::prefix_rule rule{name + ":", server.history.limits};
                read_history(v, path, origin, rule, errors);
                auto const taken = std::find_if(overrides.begin(), overrides.end(),
                                                [&](auto const& r) { return r.prefix == rule.prefix; });
                if (taken != overrides.end())
                    fail("history.overrides has a rule for the prefix \"" + rule.prefix + "\" already");
                else
                    overrides.push_back(std::move(rule));
            } else {
                fail("unknown key (a namespace has subscribe, publish, presence, join_leave, transports, history, "
                     "subscribe_url and publish_url)");
            }
        }
        namespaces.push_back(std::move(ns));
    }
    if (errors.size() != before)
        return;
    server.namespaces = std::move(namespaces);
    server.history.overrides = std::move(overrides);
}

}  // namespace switchboard_server
