#include "proxy/backend_url.hpp"

#include <switchboard/proxy_options.hpp>

#include <algorithm>
#include <cctype>

namespace switchboard::detail {

std::optional<backend_url> parse_backend_url(std::string_view url, std::string& why)
{
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) {
        why = url.substr(0, 8) == "https://" ? "https is not supported for proxy backends: use http://"
                                             : "a proxy URL starts with http://";
        return std::nullopt;
    }
    auto rest = url.substr(scheme.size());
    auto const slash = rest.find('/');
    backend_url out;
    out.authority = std::string(rest.substr(0, slash));
    out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    std::string_view host = out.authority;
    std::string_view port = "80";
    if (host.starts_with('[')) {
        auto const close = host.find(']');
        if (close == std::string_view::npos) {
            why = "an IPv6 address in a proxy URL needs its closing ]";
            return std::nullopt;
        }
        if (close + 1 < host.size()) {
            if (host[close + 1] != ':') {
                why = "a proxy URL's address is followed by :PORT or /";
                return std::nullopt;
            }
            port = host.substr(close + 2);
        }
        host = host.substr(1, close - 1);
    } else if (auto const colon = host.rfind(':'); colon != std::string_view::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
    }
    bool const numeric_port = !port.empty() && port.size() <= 5 &&
                              std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
    if (host.empty() || !numeric_port || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
        why = "a proxy URL needs a host and, if given, a port of 1-65535";
        return std::nullopt;
    }
    if (std::any_of(out.target.begin(), out.target.end(),
                    [](unsigned char c) { return c <= ' ' || c == 0x7f || c == '#'; })) {
        why = "a proxy URL's path holds a space, a control character or a fragment";
        return std::nullopt;
    }
    out.host = std::string(host);
    out.port = std::string(port);
    return out;
}

}  // namespace switchboard::detail

namespace switchboard {

std::string proxy_url_problem(std::string_view url)
{
    std::string why;
    if (!url.empty())
        detail::parse_backend_url(url, why);
    return why;
}

}  // namespace switchboard
