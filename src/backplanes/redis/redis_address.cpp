#include <switchboard/redis_backplane.hpp>

#include <cctype>
#include <charconv>
#include <stdexcept>

namespace switchboard {

namespace {

template <class T>
T number(std::string_view text, char const* what)
{
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        throw std::invalid_argument("bad " + std::string(what) + " in the Redis URL");
    return value;
}

}  // namespace

redis_address redis_address::parse(std::string const& url)
{
    static constexpr std::string_view scheme = "redis://";
    std::string_view rest = url;
    if (!rest.starts_with(scheme))
        throw std::invalid_argument("a Redis URL starts with redis://");
    rest.remove_prefix(scheme.size());
    redis_address out;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        if (slash + 1 < rest.size())
            out.database = number<unsigned>(rest.substr(slash + 1), "database");
        rest = rest.substr(0, slash);
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto credentials = rest.substr(0, at);
        // redis://:password@host, or redis://user:password@host (the user is ignored: AUTH with one argument).
        auto colon = credentials.find(':');
        out.password = std::string(colon == std::string_view::npos ? credentials : credentials.substr(colon + 1));
        rest = rest.substr(at + 1);
    }
    std::string_view host = rest;
    if (rest.starts_with('[')) {  // [IPv6]:port
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            throw std::invalid_argument("bad IPv6 address in the Redis URL");
        host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (rest.starts_with(':'))
            out.port = number<unsigned short>(rest.substr(1), "port");
        else if (!rest.empty())
            throw std::invalid_argument("bad port in the Redis URL");
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        out.port = number<unsigned short>(rest.substr(colon + 1), "port");
    }
    if (host.empty())
        throw std::invalid_argument("no host in the Redis URL");
    for (char c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' && c != '_')
            throw std::invalid_argument("the Redis URL's host may hold letters, digits, '.', '-' and '_' only");
    out.host = std::string(host);
    return out;
}

}  // namespace switchboard
