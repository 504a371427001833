#include "websocket/websocket_transport.hpp"

#include "http/http_responses.hpp"
#include "websocket/permessage_deflate.hpp"
#include "websocket/sec_websocket_accept.hpp"
#include "websocket/websocket_channel.hpp"

#include <switchboard/error.hpp>

#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <optional>

namespace switchboard::websocket {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// Base64 of 16 bytes, as RFC 6455 4.2.1 wants the key: 22 characters of the alphabet, then "==".
bool is_websocket_key(std::string_view key)
{
    auto const base64 = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    };
    return key.size() == 24 && key.ends_with("==") && std::all_of(key.begin(), key.end() - 2, base64);
}

// The version refusal both handshakes share: 400 rather than 426, so the status matches the error code as
// everywhere else (RFC 6455 4.2.2 allows any error status with the version header).
bool refused_version(detail::channel_services& services, detail::exchange& conn)
{
    auto const& req = conn.request();
    if (req[http::field::sec_websocket_version] == "13")
        return false;
    services.metrics.count_error(error_name(error::bad_request));
    auto res = detail::error_response(req, error::bad_request, "Sec-WebSocket-Version must be 13");
    res.set(http::field::sec_websocket_version, "13");
    conn.respond(std::move(res));
    return true;
}

// permessage-deflate when the client offers it in a form we can honour (permessage_deflate.hpp): the answer's
// Sec-WebSocket-Extensions, or nothing. No subprotocol is chosen (the commands are the protocol), so a client's
// Sec-WebSocket-Protocol gets none back, over either handshake.
std::optional<std::string> negotiated_compression(detail::channel_services& services, http_request const& req)
{
    if (!services.options.ws_compression)
        return std::nullopt;
    std::string offers;
    for (auto [it, end] = req.equal_range(http::field::sec_websocket_extensions); it != end; ++it) {
        if (!offers.empty())
            offers += ',';
        offers += it->value();
    }
    return accept_permessage_deflate(offers);
}

// ?since=CURSOR: where the client's server-side subscriptions resume from (docs/protocol.md, "Server-side
// subscriptions"), read before the upgrade is answered so that a bad one is a plain 400.
bool read_server_cursor(detail::channel_services& services, detail::exchange& conn, cursor& out)
{
    auto const* text = conn.parameters().find("since");
    if (!text)
        return true;
    if (decode_cursor(*text, out, services.options.max_subscriptions)) {
        conn.respond_error(error::invalid_cursor, "since is a cursor, as an SSE stream's");
        return false;
    }
    return true;
}

// Why services.open refused a channel, as its close frame: the handshake is done, so the client learns it from a
// close frame rather than a failed handshake.
disconnect refusal(boost::system::error_code refused)
{
    return {refused == error::shutting_down ? std::uint16_t{1001} : std::uint16_t{4500}, std::string(error_name(refused))};
}

// WebSocket over HTTP/2 (RFC 8441): an extended CONNECT with :protocol websocket. The answer is 200 as HEADERS
// (no Upgrade, no key and no Sec-WebSocket-Accept: the stream is the tunnel), then frames both ways are the
// stream's DATA. The route's checks (Origin, authentication) ran in exchange::dispatch as for HTTP/1.1.
void connect(detail::channel_services& services, std::shared_ptr<detail::exchange> const& conn)
{
    auto& req = conn->request();
    if (conn->connect_protocol() != "websocket")
        return conn->respond_error(error::bad_request, "extended CONNECT serves :protocol websocket only, not " +
                                                            std::string(conn->connect_protocol().substr(0, 64)));
    if (refused_version(services, *conn))
        return;
    if (services.stopping)
        return conn->respond_error(error::shutting_down);
    cursor since;
    if (!read_server_cursor(services, *conn, since))
        return;
    // The stream counts as a connection of its client (max_connections, max_connections_per_address).
    if (auto ec = conn->admit_channel())
        return conn->respond_error(ec);
    auto const compression = negotiated_compression(services, req);
    auto const leftover = std::move(req.body());  // frames the client sent before the answer
    conn->set_aside_request();  // the stream holds no request fields for the channel's life
    auto ch = std::make_shared<websocket_channel>(conn->push_io(), services, conn->packed_remote_address());
    ch->set_identity(conn->identity());
    if (compression)
        ch->use_compression();
    http_response head{http::status::ok, 11};
    head.set(http::field::server, "switchboard");
    if (compression)
        head.set(http::field::sec_websocket_extensions, *compression);
    if (auto refused = services.open(ch)) {
        ch->start(head, {});
        return ch->close(refusal(refused));
    }
    ch->start(head, leftover, std::move(since));
}

void upgrade(detail::channel_services& services, std::shared_ptr<detail::exchange> const& conn)
{
    auto& req = conn->request();
    if (req.method() == http::verb::connect && !conn->http1())
        return connect(services, conn);
    if (!beast::websocket::is_upgrade(req))
        return conn->respond_error(error::bad_request, "expected a WebSocket upgrade");
    // RFC 6455 4.2.1's checks that the HTTP parser and is_upgrade() have not made already: a refusal is the
    // protocol's JSON error like every other one.
    if (req.version() != 11)
        return conn->respond_error(error::bad_request, "a WebSocket upgrade needs HTTP/1.1");
    if (req[http::field::host].empty())
        return conn->respond_error(error::bad_request, "a WebSocket upgrade needs a Host header");
    if (!is_websocket_key(req[http::field::sec_websocket_key]))
        return conn->respond_error(error::bad_request, "Sec-WebSocket-Key must be 16 bytes in base64");
    if (refused_version(services, *conn))
        return;
    if (services.stopping)
        return conn->respond_error(error::shutting_down);
    if (!conn->http1())  // never: version 1.1 and the Upgrade field are HTTP/1.1's (HTTP/2 comes as CONNECT)
        return conn->respond_error(error::bad_request, "a WebSocket over HTTP/2 is an extended CONNECT (RFC 8441)");
    cursor since;
    if (!read_server_cursor(services, *conn, since))
        return;

    auto const compression = negotiated_compression(services, req);
    // The 101 is the channel's first bytes (RFC 6455 4.2.2), so the socket goes straight from the HTTP connection to
    // the channel: no handshake object between them, whose stream would be one more copy of the connection's.
    std::string response = "HTTP/1.1 101 Switching Protocols\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: ";
    response += sec_websocket_accept(req[http::field::sec_websocket_key]);
    response += "\r\nServer: switchboard\r\n";
    if (compression)
        response.append("Sec-WebSocket-Extensions: ").append(*compression).append("\r\n");
    response += "\r\n";
    std::string leftover;  // frames the client sent right behind its upgrade request
    detail::connection_slot slot;
    auto stream = conn->http1()->release(leftover, slot);
    auto ch = std::make_shared<websocket_channel>(std::move(stream), std::move(slot), services,
                                                  conn->packed_remote_address());
    ch->set_identity(conn->identity());
    if (compression)
        ch->use_compression();
    if (auto refused = services.open(ch)) {
        ch->start(std::move(response), {});  // to see the peer's EOF after our close frame
        return ch->close(refusal(refused));
    }
    ch->start(std::move(response), leftover, std::move(since));
}

}  // namespace

detail::route make_route(detail::channel_services& services)
{
    // CONNECT: WebSocket over HTTP/2 (RFC 8441); over HTTP/1.1 it is refused as no upgrade.
    return {{http::verb::get, http::verb::connect},
            [&services](std::shared_ptr<detail::exchange> const& conn) { upgrade(services, conn); },
            "websocket"};
}

}  // namespace switchboard::websocket
