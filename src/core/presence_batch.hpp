#pragma once
// The joins and leaves of each topic waiting for the end of their batch interval
// (presence_options::batch_interval): what each client's events add up to, in the order the clients first
// came. A join then a leave of one client cancel out; a leave then a join is both (the member came back,
// perhaps with other info), so a client applying the leaves, then the joins, holds the members of now.

#include <switchboard/detail/string_hash.hpp>
#include <switchboard/presence.hpp>

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

class presence_batch {
public:
    /// Adds a join or a leave; answers how many clients the topic's batch names now.
    std::size_t add(presence_event const& e);
    /// The topic's diff, or null when nothing is waiting or its events cancelled out. The topic's batch is gone.
    presence_event_ptr take(std::string const& topic);
    /// Every topic's diff, as take() answers them.
    std::vector<presence_event_ptr> take_all();
    bool empty() const noexcept { return topics_.empty(); }

private:
    struct change {
        bool was_present = false;  // its first event was a leave
        bool present = false;      // its last event was a join
        presence_member left;      // who the first leave took away
        presence_member joined;    // who the last join brought
    };
    struct topic_batch {
        std::vector<change> changes;  // in the order clients first came
        std::unordered_map<std::string, std::size_t> index;  // client id -> its change
    };

    static presence_event_ptr diff_of(std::string const& topic, topic_batch const& b);

    std::unordered_map<std::string, topic_batch, string_hash, std::equal_to<>> topics_;
};

}  // namespace switchboard::detail
