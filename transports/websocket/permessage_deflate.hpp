#pragma once
// permessage-deflate (RFC 7692): which offer of a client's Sec-WebSocket-Extensions the server accepts, and the
// compression of one message's payload and the decompression of one client message.
//
// The server always answers `server_no_context_takeover; client_no_context_takeover`: every message is deflated
// on its own, so one compressed frame can be shared by every subscriber (each connection's context would make
// every delivery a compression of its own), and no connection keeps a zlib stream (32 KB and more each) while
// idle. The zlib streams themselves are one per thread, reset for each message.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::websocket {

/// The Sec-WebSocket-Extensions value that accepts the first offer of permessage-deflate the server can honour,
/// or nothing when there is none. `offers` is the request's header value (several header lines joined by ", ").
/// Offers the server declines (RFC 7692 5): unknown or repeated parameters, a window bit count outside 8-15 or
/// a server_max_window_bits below 15 (the shared compressed bytes use zlib's full window).
std::optional<std::string> accept_permessage_deflate(std::string_view offers);

/// `payload` deflated as one message without context takeover, the 4 trailing bytes of the sync flush
/// removed (RFC 7692 7.2.1). Empty when compression does not make it smaller. `level` is zlib's, 1-9.
std::string deflate_message(std::string_view payload, int level);

enum class inflate_status { ok, too_large, invalid };

/// Inflates a compressed message's payload into `out` (replaced), stopping past `limit` bytes.
inflate_status inflate_message(std::string_view compressed, std::size_t limit, std::string& out);

}  // namespace switchboard::websocket
