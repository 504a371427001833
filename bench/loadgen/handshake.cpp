// A subscriber's first request per transport, and the dispatch of input to the protocol a connection speaks,
// reading the WebSocket upgrade or SSE response head on the way.

#include "run.hpp"

#include "http_head.hpp"

#include <string>

namespace loadgen {

void run::subscriber_handshake(connection& c)
{
    switch (opt_.transport) {
    case transport_kind::ws:
        send(c, "GET " + sub_target_ + " HTTP/1.1\r\nHost: " + opt_.host
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        break;
    case transport_kind::sse:
        send(c, "GET " + sub_target_ + " HTTP/1.1\r\nHost: " + opt_.host + "\r\nAccept: text/event-stream\r\n\r\n");
        break;
    case transport_kind::poll:
        send_poll(c);
        // A poll is parked at the server until a message comes; it counts as subscribed once sent. Switchboard
        // polls carry the cursor taken before the run, so none can miss a message whatever the timing; Nchan's
        // first poll waits for the next message (the settle time covers its arrival at the server).
        mark_ready(c);
        break;
    }
}

void run::on_input(connection& c, char* p, std::size_t n)
{
    bool const sub = c.kind == connection::role::subscriber;
    // Hot paths first: parse straight from the shared buffer, keep only an incomplete tail.
    if (sub && c.head_read && opt_.transport == transport_kind::sse)
        return sse_body(c, p, n);
    if (c.head_read && (opt_.transport == transport_kind::ws || !sub) && c.kind != connection::role::http_publisher)
        return ws_input(c, p, n);
    c.pending.append(p, n);
    if (c.kind == connection::role::http_publisher)
        return http_publisher_input(c);
    if (sub && opt_.transport == transport_kind::poll)
        return poll_input(c);
    // A WebSocket upgrade or an SSE response head.
    auto const end = c.pending.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c.pending.size() > 64 * 1024)
            fail(c, "response head too large");
        return;
    }
    auto const head = c.pending.substr(0, end);
    std::string rest = c.pending.substr(end + 4);
    c.pending.clear();
    c.head_read = true;
    if (!sub || opt_.transport == transport_kind::ws) {
        if (status_code(head) != 101)
            return fail(c, "upgrade refused: " + head.substr(0, head.find("\r\n")));
        if (!sub)
            mark_ready(c);
        else if (opt_.dialect == dialect_kind::switchboard)
            ws_send_text(c, R"({"type":"subscribe","topic":")" + opt_.topic +
                                (opt_.presence ? R"(","presence":true})" : R"("})"));  // ready at its ack
        else
            mark_ready(c);
        if (!rest.empty())
            ws_input(c, rest.data(), rest.size());
        return;
    }
    if (status_code(head) != 200)
        return fail(c, "SSE refused: " + head.substr(0, head.find("\r\n")));
    c.sse_chunked = iequals_prefix(header_value(head, "Transfer-Encoding"), "chunked");
    if (opt_.dialect != dialect_kind::switchboard)
        mark_ready(c);  // switchboard: ready at the "subscribed" event
    if (!rest.empty())
        sse_body(c, rest.data(), rest.size());
}

}  // namespace loadgen
