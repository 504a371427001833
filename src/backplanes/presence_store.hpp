#pragma once
// The members of every topic, in memory: what the memory backplane (through memory_store) keeps for presence.
// No executor and no lock, as memory_store: each call answers at once and the caller hands events to its nodes.
//
// Per topic the members are ordered by client id (a snapshot page is a range of that order, so a cursor is the
// last client id seen and stays valid whatever joins or leaves meanwhile) and its users are counted (distinct
// users in O(1)). A topic's entry goes with its last member.

#include <switchboard/presence.hpp>
#include <switchboard/detail/string_hash.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>

namespace switchboard::detail {

class presence_store {
public:
    struct join_answer {
        boost::system::error_code ec;  // too_many_members
        presence_event_ptr event;      // null when refused, or when the client was present already
    };
    join_answer join(std::string const& topic, presence_member member, std::size_t max_members);
    /// The leave event, or null when `client` was not present in `topic`.
    presence_event_ptr leave(std::string const& topic, std::string const& client);
    presence_page members(std::string const& topic, std::string const& after, std::size_t limit) const;
    presence_counts counts(std::string const& topic) const;
    /// The member `client` of `topic`; null when it is not one.
    presence_member const* find(std::string const& topic, std::string const& client) const;

    /// Topics with members, and members of all topics.
    std::size_t topic_count() const noexcept { return topics_.size(); }
    std::size_t member_count() const noexcept { return members_; }

private:
    struct topic_members {
        std::map<std::string, presence_member, std::less<>> by_client;
        std::unordered_map<std::string, std::size_t, string_hash, std::equal_to<>> users;  // authenticated ones
        std::size_t anonymous = 0;
    };
    std::unordered_map<std::string, topic_members, string_hash, std::equal_to<>> topics_;
    std::size_t members_ = 0;
};

}  // namespace switchboard::detail
