#include "http/query.hpp"

#include <switchboard/error.hpp>

#include <algorithm>

namespace switchboard::detail {
namespace {

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out)
{
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size())
            return false;
        int const hi = hex_value(in[i + 1]);
        int const lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0)
            return false;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

std::string const* query::find(std::string_view name) const
{
    for (auto const& [key, value] : params)
        if (key == name)
            return &value;
    return nullptr;
}

std::vector<std::string> query::all(std::string_view name) const
{
    std::vector<std::string> out;
    for (auto const& [key, value] : params)
        if (key == name)
            out.push_back(value);
    return out;
}

boost::system::error_code parse_target(std::string_view target, std::string_view& path, query& out,
                                       std::size_t max_params)
{
    out.params.clear();
    // A fragment never reaches a server from a browser, but a hand-written client may send one.
    target = target.substr(0, target.find('#'));
    auto const mark = target.find('?');
    path = target.substr(0, mark);
    if (mark == std::string_view::npos)
        return {};
    std::string_view rest = target.substr(mark + 1);
    // One allocation for the parameters, not one per doubling: up to max_params, whatever the target says.
    auto const pairs = 1 + static_cast<std::size_t>(std::count(rest.begin(), rest.end(), '&'));
    out.params.reserve(std::min(max_params, pairs));
    while (!rest.empty()) {
        auto const amp = rest.find('&');
        std::string_view const pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty())
            continue;
        if (out.params.size() == max_params)
            return error::bad_request;
        auto const eq = pair.find('=');
        std::string key, value;
        if (!percent_decode(pair.substr(0, eq), key))
            return error::bad_request;
        if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value))
            return error::bad_request;
        out.params.emplace_back(std::move(key), std::move(value));
    }
    return {};
}

}  // namespace switchboard::detail
