#pragma once
// The offsets of a list of messages, for the backplane tests' assertions: EXPECT_EQ(offsets_of(r.messages),
// (offsets{3, 4})).

#include <switchboard/message.hpp>

#include <cstdint>
#include <vector>

namespace switchboard::test {

using offsets = std::vector<std::uint64_t>;

inline offsets offsets_of(std::vector<message_ptr> const& messages)
{
    offsets out;
    for (auto const& m : messages)
        out.push_back(m->offset());
    return out;
}

}  // namespace switchboard::test
