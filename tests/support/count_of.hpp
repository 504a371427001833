#pragma once
// How often a text holds another: answers on a connection, events in a client's output, lines in a log.

#include <cstddef>
#include <string_view>

namespace switchboard::test {

// Occurrences of `what` in `text`, none overlapping another.
inline std::size_t count_of(std::string_view text, std::string_view what)
{
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size()))
        ++n;
    return n;
}

}  // namespace switchboard::test
