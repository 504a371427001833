#include "support/headers.hpp"

#include <algorithm>

namespace switchboard::test {

namespace {

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool case_insensitive_less::operator()(std::string_view a, std::string_view b) const noexcept {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return lower(x) < lower(y); });
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) { return lower(x) == lower(y); });
}

void add_header(header_map& headers, std::string_view name, std::string_view value) {
    auto [it, inserted] = headers.try_emplace(std::string(name), value);
    if (!inserted) {
        it->second.append(", ").append(value);
    }
}

}  // namespace switchboard::test
