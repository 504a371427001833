#pragma once
// A cursor: the positions of several topics in one opaque, URL- and SSE-safe string. Long polling returns one,
// SSE events carry one as their id (so Last-Event-ID resumes a whole stream), and SSE's ?since= takes one.
//
// Text form (documented as opaque to clients): entries "<offset>.<epoch>.<topic>" joined by ','.
// Topic names cannot hold ',' and epochs are alphanumeric, so no escaping is ever needed.

#include <switchboard/position.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

struct topic_position {
    std::string topic;
    position where;

    friend bool operator==(topic_position const&, topic_position const&) = default;
};

using cursor = std::vector<topic_position>;

inline constexpr std::size_t max_epoch_length = 32;

/// Appends the text form of one entry to `out`.
void append_cursor_entry(std::string& out, std::string_view topic, position const& where);

std::string encode_cursor(cursor const& c);

/// Reads a cursor's text form; on failure returns error::invalid_cursor and leaves `out` unspecified.
/// An entry for a topic that is not valid, a duplicate topic, or more than `max_entries` entries are refused.
boost::system::error_code decode_cursor(std::string_view text, cursor& out, std::size_t max_entries);

}  // namespace switchboard
