#pragma once
// Transparent hashing, so maps keyed by std::string are searched with a string_view without a copy.

#include <functional>
#include <string_view>

namespace switchboard::detail {

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace switchboard::detail
