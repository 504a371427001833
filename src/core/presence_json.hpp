#pragma once
// The answers to a presence snapshot and to presence counts, as JSON text: one encoding for the WebSocket
// commands and GET /presence, so both say the same thing (docs/protocol.md, "Presence").

#include <switchboard/presence.hpp>

#include <string>
#include <string_view>

namespace switchboard::detail {

/// {"type":"presence"[,"id":ID],"topic":T,"members":[{"client":C,"user":U,"info":I},...][,"next":CURSOR]}.
/// `id` is the command's id as JSON text, or empty for none. The members' info is JSON text already, kept as it is.
std::string presence_page_json(std::string_view id, std::string_view topic, presence_page const& page);

/// {"type":"presence_stats"[,"id":ID],"topic":T,"clients":N,"users":M}.
std::string presence_stats_json(std::string_view id, std::string_view topic, presence_counts const& n);

}  // namespace switchboard::detail
