#pragma once
// Presence: who is in a topic. A member is one channel present in one topic: its client id (random, stable for
// the channel, never its token), its user (the identity's "sub"; empty when anonymous) and its public info (the
// token's "presence" claim as JSON text, "null" without one). Members join and leave through the backplane
// (backplane::presence_join / presence_leave), which hands every node the event; the hub fans it out to the
// topic's channels that asked for presence. Events take no offset and are not in history (docs/protocol.md,
// "Presence").
//
// Thread-safety: an event is immutable once made and shared by every channel that delivers it; its encoding
// cache, like message's, is used on the loop thread only.

#include <switchboard/message.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace switchboard {

struct presence_member {
    std::string client;        // the member's client id: [0-9a-f]{32}
    std::string user;          // the user id ("sub"); empty for an anonymous client
    std::string info = "null";  // JSON text, at most presence_options::max_info_bytes
    friend bool operator==(presence_member const&, presence_member const&) = default;
};

struct presence_counts;

/// What a topic's presence listeners are told, encoded once:
/// - join, leave: a member's arrival or departure, {"type":"join","topic":T,"client":C,"user":U,"info":I};
/// - diff: the joins and leaves of one batch interval (presence_options::batch_interval),
///   {"type":"presence_diff","topic":T,"leaves":[{member},...],"joins":[{member},...]};
/// - counts: the counts of a topic too large for events (presence_options::max_event_members),
///   {"type":"presence_stats","topic":T,"clients":N,"users":M}.
class presence_event {
public:
    enum class kind { join, leave, diff, counts };
    static constexpr std::size_t kinds = 4;

    /// A join or a leave.
    presence_event(kind k, std::string topic, presence_member member);
    /// A diff: `leaves` then `joins` applied to the members a client knew give the members now.
    static std::shared_ptr<presence_event const> diff(std::string topic, std::vector<presence_member> const& leaves,
                                                      std::vector<presence_member> const& joins);
    static std::shared_ptr<presence_event const> counts(std::string topic, presence_counts const& n);

    kind type() const noexcept { return kind_; }
    /// The envelope's type and the SSE event name: "join", "leave", "presence_diff" or "presence_stats".
    std::string_view name() const noexcept { return name_of(kind_); }
    static std::string_view name_of(kind k) noexcept;
    std::string const& topic() const noexcept { return topic_; }
    /// The member of a join or a leave; empty for a diff or counts.
    presence_member const& member() const noexcept { return member_; }
    /// The JSON envelope (one line), shared.
    shared_bytes const& envelope() const noexcept { return envelope_; }

    /// As message::encoding: the bytes in the wire format owned by `slot`, built once and shared.
    static constexpr std::size_t encoding_slots = 4;
    static std::size_t reserve_encoding_slot();
    template <class Build>
    shared_bytes const& encoding(std::size_t slot, Build&& build) const
    {
        auto& cached = encodings_[slot];
        if (!cached)
            cached = std::make_shared<std::string const>(build(*this));
        return cached;
    }

private:
    presence_event(kind k, std::string topic, std::string envelope);

    kind kind_;
    std::string topic_;
    presence_member member_;
    shared_bytes envelope_;
    mutable std::array<shared_bytes, encoding_slots> encodings_;
};

using presence_event_ptr = std::shared_ptr<presence_event const>;

/// One page of a topic's members, ordered by client id. `next`: the cursor of the following page (the last
/// client id of this one), empty on the last page.
struct presence_page {
    std::vector<presence_member> members;
    std::string next;
};

/// A topic's member counts: present channels, and distinct users among them (anonymous members count as one user
/// each, since nothing says two of them are the same person).
struct presence_counts {
    std::size_t clients = 0;
    std::size_t users = 0;
};

/// What a backplane keeps in all: members of every topic, and topics with at least one member (GET /metrics).
struct presence_totals {
    std::size_t members = 0;
    std::size_t topics = 0;
};

}  // namespace switchboard
