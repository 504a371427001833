#pragma once
// A place in a topic's stream: the offset of the last message (0 before the first) within an epoch. The epoch
// names one continuous history of the topic; a new epoch means earlier offsets are gone.

#include <compare>
#include <cstdint>
#include <string>

namespace switchboard {

struct position {
    std::uint64_t offset = 0;
    std::string epoch;

    friend bool operator==(position const&, position const&) = default;
};

}  // namespace switchboard
