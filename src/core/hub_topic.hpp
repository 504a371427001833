#pragma once
// The hub's record of one topic with local subscribers. Channels keep a pointer to it and their index in
// `subscribers`, so leaving a topic is O(1) (swap with the last, fix that one's index). A channel's own record
// of a topic is found in O(1) too: by a search of at most a few entries, or through the hub's index for a
// channel with many subscriptions (hub::find).

#include <switchboard/channel.hpp>

#include <string>
#include <vector>

namespace switchboard::detail {

struct hub_topic {
    std::string name;
    // A null entry is a channel that left while this topic was being delivered; compacted right after.
    std::vector<channel_ptr> subscribers;
    std::size_t live = 0;  // non-null entries
    std::size_t presence_listeners = 0;  // channels its last presence fan-out reached
    bool delivering = false;
};

}  // namespace switchboard::detail
