#include "support/response_head.hpp"

#include <charconv>

namespace switchboard::test {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// Splits off the first line (without its "\r\n" or "\n").
std::string_view next_line(std::string_view& rest) {
    auto const end = rest.find('\n');
    auto line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    return line;
}

}  // namespace

std::optional<response_head> parse_response_head(std::string_view head) {
    auto status_line = next_line(head);
    constexpr std::string_view version = "HTTP/1.";
    if (status_line.substr(0, version.size()) != version || status_line.size() < 12 || status_line[8] != ' ') {
        return std::nullopt;
    }
    response_head result;
    auto const code = status_line.substr(9, 3);
    if (std::from_chars(code.data(), code.data() + code.size(), result.status).ec != std::errc()) {
        return std::nullopt;
    }
    result.reason = trim(status_line.substr(12));
    while (!head.empty()) {
        auto const line = next_line(head);
        if (line.empty()) {
            break;
        }
        auto const colon = line.find(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        add_header(result.headers, trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    return result;
}

}  // namespace switchboard::test
