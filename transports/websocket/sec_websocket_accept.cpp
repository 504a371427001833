#include "websocket/sec_websocket_accept.hpp"

#include "core/base64.hpp"

#include <boost/beast/core/detail/sha1.hpp>

namespace switchboard::websocket {

std::string sec_websocket_accept(std::string_view key)
{
    // Beast's SHA-1 (compiled once with Beast, and what its own handshake used), not OpenSSL's: fetching a digest
    // from OpenSSL initializes its providers, 1.7 MB of pages touched by a server that uses no other part of it,
    // and a context allocated per call.
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    namespace beast = boost::beast::detail;
    beast::sha1_context context;
    beast::init(context);
    beast::update(context, key.data(), key.size());
    beast::update(context, guid.data(), guid.size());
    char digest[beast::sha1_context::digest_size];
    beast::finish(context, digest);
    return detail::base64_encode({digest, sizeof digest});
}

}  // namespace switchboard::websocket
