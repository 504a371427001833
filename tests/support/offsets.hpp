#pragma once
// The offsets of a list of messages or envelopes, for the tests' assertions: EXPECT_EQ(offsets_of(r.messages),
// (offsets{3, 4})).

#include <switchboard/message.hpp>

#include <nlohmann/json.hpp>

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

/// The same of envelopes as clients receive them (`"offset"` members).
inline offsets offsets_of(std::vector<nlohmann::json> const& envelopes)
{
    offsets out;
    for (auto const& e : envelopes)
        out.push_back(e["offset"].get<std::uint64_t>());
    return out;
}

}  // namespace switchboard::test
