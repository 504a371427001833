#include "http/request_token.hpp"

#include "http/query.hpp"

#include <boost/beast/core/string.hpp>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::string_view cookie_value(std::string_view header, std::string_view name)
{
    while (!header.empty()) {
        auto const semi = header.find(';');
        auto pair = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        auto const eq = pair.find('=');
        if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
            auto value = trim(pair.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return value;
        }
    }
    return {};
}

bool same_secret(std::string_view given, std::string_view secret) noexcept
{
    if (given.size() != secret.size() || secret.empty())
        return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned char>(given[i] ^ secret[i]);
    return diff == 0;
}

std::string_view bearer_token(http_request const& req)
{
    auto const it = req.find(http::field::authorization);
    if (it == req.end())
        return {};
    // credentials = auth-scheme [ 1*SP token68 ] (RFC 9110 11.4)
    auto const value = trim(it->value());
    constexpr std::string_view scheme = "bearer";
    if (value.size() <= scheme.size() || !boost::beast::iequals(value.substr(0, scheme.size()), scheme) ||
        value[scheme.size()] != ' ')
        return {};
    return trim(value.substr(scheme.size()));
}

std::string find_token(http_request const& req, query const& q, std::string const& cookie_name)
{
    if (auto const token = bearer_token(req); !token.empty())
        return std::string(token);
    if (!cookie_name.empty()) {
        auto const [first, last] = req.equal_range(http::field::cookie);
        for (auto it = first; it != last; ++it)
            if (auto const v = cookie_value(it->value(), cookie_name); !v.empty())
                return std::string(v);
    }
    if (auto const* t = q.find("token"))
        return *t;
    return {};
}

}  // namespace switchboard::detail
