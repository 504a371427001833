#include "proxy/proxy_answer.hpp"

#include "core/json_input.hpp"
#include "core/json_member.hpp"

#include <switchboard/error.hpp>

namespace switchboard::detail {

namespace {

// The switchboard error the backend named, by its protocol name; one it cannot name reads as rejected.
boost::system::error_code named_error(std::string_view name)
{
    for (int e = 1; e < 256; ++e) {
        auto const ec = make_error_code(static_cast<error>(e));
        auto const known = error_name(ec);
        if (known == "internal_error" && e != static_cast<int>(error::internal_error))
            continue;  // past the last error, every value reads so
        if (known == name)
            return ec;
    }
    return error::rejected;
}

proxy_answer unavailable(std::string why)
{
    proxy_answer a;
    a.refused = error::backend_unavailable;
    a.message = std::move(why);
    return a;
}

}  // namespace

proxy_answer read_proxy_answer(unsigned status, std::string_view body)
{
    if (status != 200)
        return unavailable("the backend answered HTTP " + std::to_string(status));
    nlohmann::json parsed;
    std::string why;
    if (parse_json(body, parsed, &why) || !parsed.is_object())
        return unavailable("the backend's answer is not a JSON object" + (why.empty() ? "" : ": " + why));
    proxy_answer a;
    if (auto const e = parsed.find("error"); e != parsed.end()) {
        if (!e->is_object())
            return unavailable("the backend's \"error\" is not an object");
        auto const code = e->find("code");
        a.refused = code != e->end() && code->is_string() ? named_error(code->get<std::string>()) : error::rejected;
        if (a.refused == error::backend_unavailable || a.refused == error::internal_error)
            a.refused = error::rejected;  // a refusal, not a failure of the server or its backend
        if (auto const m = e->find("message"); m != e->end() && m->is_string())
            a.message = m->get<std::string>();
        return a;
    }
    if (auto const r = parsed.find("result"); r != parsed.end()) {
        if (!r->is_object())
            return unavailable("the backend's \"result\" is not an object");
        a.result = std::move(*r);
        if (a.result.contains("data")) {
            // The text, from the body: the value parsed above would serialize differently (number forms,
            // escapes, big integers).
            a.data = std::string(find_member(find_member(body, "result").value, "data").value);
            a.has_data = true;
        }
    }
    return a;
}

}  // namespace switchboard::detail
