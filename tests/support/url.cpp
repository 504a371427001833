#include "support/url.hpp"

namespace switchboard::test {

namespace {

bool is_unreserved(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string percent_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        }
    }
    return out;
}

std::string make_target(std::string_view path, query_params const& params) {
    std::string target(path);
    char separator = '?';
    for (auto const& [name, value] : params) {
        target.push_back(separator);
        target += percent_encode(name);
        target.push_back('=');
        target += percent_encode(value);
        separator = '&';
    }
    return target;
}

}  // namespace switchboard::test
