#include "http/request_framing.hpp"

#include <switchboard/error.hpp>

#include <boost/beast/core/string.hpp>

#include <cstring>
#include <vector>

namespace switchboard::detail {

namespace http = boost::beast::http;
using boost::beast::iequals;

namespace {

// The elements of a comma-separated field value (RFC 9110 5.6.1), over every line of the field, without the
// whitespace around them; empty ones are skipped.
std::vector<std::string_view> list_elements(http_request const& req, http::field f)
{
    std::vector<std::string_view> out;
    auto const [first, last] = req.equal_range(f);
    for (auto it = first; it != last; ++it) {
        std::string_view rest = it->value();
        while (!rest.empty()) {
            auto const comma = rest.find(',');
            auto element = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            while (!element.empty() && (element.front() == ' ' || element.front() == '\t'))
                element.remove_prefix(1);
            while (!element.empty() && (element.back() == ' ' || element.back() == '\t'))
                element.remove_suffix(1);
            if (!element.empty())
                out.push_back(element);
        }
    }
    return out;
}

bool is_hex(char c) noexcept
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 unreserved and sub-delims: what a host name may hold besides percent-escapes.
bool is_host_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

bool is_port(std::string_view s) noexcept
{
    return s.find_first_not_of("0123456789") == std::string_view::npos;
}

// uri-host [":" port] (RFC 9110 7.2): an IP literal in brackets, or a name (IPv4 included) of host characters
// and percent-escapes; the port digits, maybe none. Empty is allowed: a target without authority (RFC 9112 3.2).
bool is_host(std::string_view h) noexcept
{
    if (h.starts_with('[')) {
        auto const close = h.find(']');
        if (close == std::string_view::npos || close == 1)
            return false;
        for (char c : h.substr(1, close - 1))
            if (!is_host_char(c) && c != ':')
                return false;
        auto const rest = h.substr(close + 1);
        return rest.empty() || (rest.front() == ':' && is_port(rest.substr(1)));
    }
    auto const colon = h.find(':');
    if (colon != std::string_view::npos && !is_port(h.substr(colon + 1)))
        return false;
    auto const name = h.substr(0, colon);
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '%') {
            if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2]))
                return false;
            i += 2;
        } else if (!is_host_char(name[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

header_scanner::verdict header_scanner::scan(std::string_view bytes, std::size_t& used) noexcept
{
    used = 0;
    if (done_)
        return verdict::done;
    char const* const p = bytes.data();
    std::size_t const n = bytes.size();
    std::size_t i = 0;
    auto const bad = [&](std::string_view why) {
        used = i;
        why_ = why;
        return verdict::bad;
    };
    while (i < n) {
        char const c = p[i++];
        if (previous_ == '\r' && c != '\n')
            return bad("a bare CR in the request head");
        if (c == '\n') {
            if (previous_ != '\r')
                return bad("a bare LF in the request head: lines end with CRLF");
            previous_ = c;
            if (line_empty_ && started_) {
                used = i;
                done_ = true;
                return verdict::done;
            }
            if (!line_empty_)
                request_line_ = false;
            line_empty_ = true;
            continue;
        }
        previous_ = c;
        if (c == '\r')
            continue;
        if (line_empty_ && (c == ' ' || c == '\t'))
            return bad(started_ ? "a header line starts with whitespace (obsolete line folding is not accepted)"
                                : "the request line starts with whitespace");
        started_ = true;
        line_empty_ = false;
        // No rule looks inside a line: skip to its next CR or LF (memchr is much faster than this loop).
        if (i == n)
            break;
        auto const* lf = static_cast<char const*>(std::memchr(p + i, '\n', n - i));
        std::size_t const line_end = lf ? static_cast<std::size_t>(lf - p) : n;
        auto const* cr = static_cast<char const*>(std::memchr(p + i, '\r', line_end - i));
        std::size_t const next = cr ? static_cast<std::size_t>(cr - p) : line_end;
        if (next > i) {
            previous_ = p[next - 1];
            i = next;
        }
    }
    used = n;
    return verdict::more;
}

int request_line_version(std::string_view head) noexcept
{
    auto const line = head.substr(0, head.find("\r\n"));
    if (line.size() == head.size())
        return -1;
    // Two single spaces, around a target: no part empty.
    auto const first = line.find(' ');
    auto const second = line.find(' ', first + 1);
    if (first == 0 || first == std::string_view::npos || second == first + 1 || second == std::string_view::npos ||
        line.find(' ', second + 1) != std::string_view::npos)
        return -1;
    auto const v = line.substr(second + 1);
    auto const digit = [](char c) { return c >= '0' && c <= '9'; };
    if (v.size() != 8 || !v.starts_with("HTTP/") || !digit(v[5]) || v[6] != '.' || !digit(v[7]))
        return -1;
    return (v[5] - '0') * 10 + (v[7] - '0');
}

boost::system::error_code check_request_head(http_request const& req, std::string& why)
{
    // RFC 9112 3.2: one Host, required in HTTP/1.1; two could name two different servers.
    auto const hosts = req.count(http::field::host);
    if (hosts > 1) {
        why = "more than one Host field";
        return error::bad_request;
    }
    if (hosts == 0 && req.version() >= 11) {
        why = "an HTTP/1.1 request needs a Host field";
        return error::bad_request;
    }
    if (hosts == 1 && !is_host(req[http::field::host])) {
        why = "the Host field is not a host[:port]";
        return error::bad_request;
    }

    // RFC 9112 6.1 and 6.3: the body's length must be known for sure, else its bytes could run as a request.
    if (req.count(http::field::transfer_encoding) > 0) {
        if (req.version() < 11) {
            why = "Transfer-Encoding in an HTTP/1.0 request";
            return error::bad_request;
        }
        if (req.count(http::field::content_length) > 0) {
            why = "Transfer-Encoding and Content-Length together";
            return error::bad_request;
        }
        auto const codings = list_elements(req, http::field::transfer_encoding);
        if (codings.empty() || !iequals(codings.back(), "chunked")) {
            why = "the last transfer coding must be chunked";
            return error::bad_request;
        }
        if (codings.size() > 1) {
            for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
                if (iequals(codings[i], "chunked")) {
                    why = "chunked more than once";
                    return error::bad_request;
                }
            }
            why = "transfer coding " + std::string(codings.front().substr(0, 64)) + " is not supported";
            return error::not_implemented;
        }
    }

    // RFC 9110 10.1.1: an expectation the server cannot meet is 417; HTTP/1.0 predates Expect.
    if (req.version() >= 11) {
        for (auto const e : list_elements(req, http::field::expect)) {
            if (!iequals(e, "100-continue")) {
                why = "only the expectation 100-continue is supported";
                return error::expectation_failed;
            }
        }
    }
    return {};
}

bool expects_continue(http_request const& req)
{
    return req.version() >= 11 && !list_elements(req, http::field::expect).empty();
}

boost::system::error_code to_origin_form(http_request& req)
{
    std::string_view const target = req.target();
    if (target.empty() || target.front() == '/')
        return {};
    auto const scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos)
        return {};
    auto const scheme = target.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https"))
        return error::bad_request;
    auto const rest = target.substr(scheme_end + 3);
    auto const path_at = rest.find_first_of("/?#");
    auto const authority = rest.substr(0, path_at);
    if (!is_host(authority))  // a userinfo ("user@host") included, which a client must not send (RFC 9110 4.2.4)
        return error::bad_request;
    std::string path = path_at == std::string_view::npos ? "/"
                       : rest[path_at] == '/'           ? std::string(rest.substr(path_at))
                                                        : "/" + std::string(rest.substr(path_at));
    req.set(http::field::host, std::string(authority));
    req.target(path);
    return {};
}

}  // namespace switchboard::detail
