#pragma once
// The Sec-WebSocket-Accept of an opening handshake (RFC 6455 4.2.2): proof to the client that the server read its
// key. The server writes its 101 itself (websocket_transport), as the channel's first bytes.

#include <string>
#include <string_view>

namespace switchboard::websocket {

/// base64(SHA-1(key + the RFC's GUID)), for a `key` the route has checked (16 bytes in base64).
std::string sec_websocket_accept(std::string_view key);

}  // namespace switchboard::websocket
