#pragma once
// Everything a server can be told, with its default and unit. Every queue, buffer and header is bounded here.

#include <switchboard/history_options.hpp>
#include <switchboard/proxy_options.hpp>
#include <switchboard/security_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

/// Which transports answer. A transport turned off refuses its requests (the WebSocket upgrade, the SSE stream,
/// the poll) with 503 `transport_disabled`, so clients fall back to another: switchboard.js does.
struct enabled_transports {
    bool websocket = true;
    bool sse = true;
    bool long_polling = true;
};

/// HTTP/2 on the same port (docs/protocol.md, "HTTP/2"): plain connections that open with the HTTP/2 preface
/// (prior knowledge); h2 by ALPN over TLS is built but not offered yet. Every request is a stream; the limits
/// below are announced in the server's SETTINGS and enforced per connection.
struct http2_options {
    bool enabled = true;                       // off: the preface is refused as an HTTP/1.1 request (505)
    std::size_t max_concurrent_streams = 100;  // streams one connection may have open at once; more are refused
    // bytes: each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE), at most 2^31-1
    std::size_t initial_window_size = 65'535;
    std::size_t max_header_list_size = 16 * 1024;  // bytes: one request's header list, as RFC 9113 6.5.2 counts it
};

/// Presence (docs/protocol.md, "Presence"): who is in a topic.
struct presence_options {
    // Members of one topic at once (on all nodes): a join past it is refused with too_many_members.
    std::size_t max_members = 100'000;
    // How long a member whose channel closed stays present: a client that comes back within it with its resume
    // key (given in its presence ack) takes its entry over, with no leave and join. 0: it leaves at once.
    std::chrono::milliseconds grace{5'000};
    // Bytes of a member's public info (the token's "presence" claim, as JSON text): larger is refused with
    // message_too_large.
    std::size_t max_info_bytes = 1'024;
    // Members in one snapshot page (the WebSocket "presence" command, GET /presence): a larger "limit" is
    // lowered to this.
    std::size_t max_page = 1'000;
    // 0: each join and leave is its own event, sent as it happens. Otherwise a topic's joins and leaves within
    // this interval leave as one presence_diff event (a join and a leave of the same client cancel out); a diff
    // leaves early once max_page clients came or went, so none names more.
    std::chrono::milliseconds batch_interval{0};
    // A topic reaching more than this many listeners on a node gets no join, leave or diff events there: its
    // listeners get a presence_stats event (the counts) at most every counts_interval while members come and go,
    // and read the members in pages. What each event costs grows with the listeners: N members joining make
    // N(N-1)/2 deliveries. 0: no bound.
    std::size_t max_event_members = 1'000;
    std::chrono::milliseconds counts_interval{1'000};
    // GET here answers a topic's snapshot page or counts over HTTP (docs/protocol.md, "Presence"); an empty
    // path turns it off. Kept on reload().
    std::string path = "/presence";
};

/// Who may do something in a namespace from a client (a WebSocket, SSE, a poll, POST /publish). The server API
/// and the C++ server object are the backend's, not a client's: nothing here limits them.
enum class namespace_access {
    everyone,  // as the topic permissions and hooks allow (security_options)
    users,     // clients with a verified token only, then as those allow
    nobody,    // no client: for subscribe, only server-side subscriptions (identity::topics) reach its topics
};

/// A namespace (docs/protocol.md, "Namespaces"): the topics named "<name>:..." share these options. History
/// limits per namespace are history_options::overrides with the prefix "<name>:" (the configuration file's
/// namespaces.<name>.history is that rule).
struct namespace_options {
    std::string name;  // 1-64 of A-Z a-z 0-9 _ -
    namespace_access subscribe = namespace_access::everyone;
    namespace_access publish = namespace_access::everyone;
    bool presence = true;    // presence (joins, snapshots, counts); off: presence_unavailable
    bool join_leave = true;  // with presence: join and leave events; off: snapshots and counts only
    // The transports that deliver its topics: a subscribe over another is refused (forbidden).
    enabled_transports transports;
    // Proxy hooks for its topics (docs/integration.md) in place of proxy.subscribe_url and proxy.publish_url:
    // "" uses the server's. Read at start(), as the server's are.
    std::string subscribe_url;
    std::string publish_url;
};

/// Why `name` cannot name a namespace (empty when it can).
std::string namespace_name_problem(std::string_view name);

struct server_options {
    // Where to listen. Port 0 asks the kernel for a free one (see server::local_endpoint()).
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;
    // SO_REUSEPORT on the listening socket: several servers of one process (one per loop, docs/scaling.md) listen
    // on the same address and port, and the kernel spreads new connections over them by a hash of the client's
    // address and port. Off by default: a second server on a port in use fails to start.
    bool reuse_port = false;

    // TLS (https://, wss://) on the same port as plain HTTP: a client's first byte tells which it speaks. On when
    // both files are set: the certificate chain (PEM, leaf first) and its private key (PEM, unencrypted). TLS 1.2
    // minimum; the handshake must finish within request_timeout. Reloaded by server::reload().
    std::string tls_cert_file;
    std::string tls_key_file;
    bool tls_only = false;  // with TLS on: close clients that do not start a TLS handshake, unanswered

    // Paths of the transports and of HTTP publishing.
    std::string websocket_path = "/ws";
    std::string sse_path = "/sse";
    std::string poll_path = "/poll";
    std::string publish_path = "/publish";
    // Transports that answer (all by default); changes on reload() without touching open connections.
    enabled_transports transports;
    // The browser client (switchboard.js, compiled into the library) is served here; an empty path turns it off.
    std::string client_path = "/switchboard.js";
    // Operator endpoints; an empty path turns one off.
    std::string metrics_path = "/metrics";  // Prometheus text
    std::string health_path = "/healthz";   // 200 while the process answers
    std::string ready_path = "/readyz";     // 200 while accepting with the backplane connected, else 503
    // The admin view at /admin (a live page over SSE at /admin/events, POST /admin/disconnect closes every
    // channel with code 4006): off while the token is empty. When set, requests must carry it (?token= or
    // "Authorization: Bearer").
    std::string admin_token;
    // The server API under /api/ (docs/server-api.md: broadcast, history, a user's channels, disconnect,
    // unsubscribe, topics): off while the key is empty. When set, requests must carry it ("Authorization: Bearer"
    // or "X-API-Key").
    std::string api_key;

    // Limits on what clients send.
    std::size_t max_message_size = 64 * 1024;      // bytes: a WebSocket message or a POST /publish body
    std::size_t max_header_size = 8 * 1024;        // bytes: one HTTP request's start line and headers
    std::size_t max_subscriptions = 128;           // topics one channel may be subscribed (or subscribing) to at once
    // Topics one pattern resume may replay (those the pattern matches with messages after the client's
    // sequence): more fail the subscribe with too_many_topics (backplane::pattern_history).
    std::size_t max_resume_topics = 1000;
    // Commands of one WebSocket waiting on an asynchronous hook (authorize, authenticate) or the backplane (a
    // publish's position, a history read over Redis): at most this many, holding at most this many bytes of
    // command text (one always fits); past either a command gets too_many_pending and is not run.
    std::size_t max_pending_commands = 1024;
    std::size_t max_pending_bytes = 1024 * 1024;
    std::chrono::milliseconds request_timeout{10'000};  // to receive a whole HTTP request; also the keep-alive idle time
    http2_options http2;

    // Connections (HTTP, WebSocket, SSE, long polls alike). A connection past a limit is answered 503
    // too_many_connections as it is accepted, before its request, closed, and counted in neither limit.
    std::size_t max_connections = 100'000;
    std::size_t max_connections_per_address = 10'000;  // per client IP address

    // WebSocket keepalive: a ping after this long without input; a peer silent for ping + pong timeout is
    // closed as dead (code 4003).
    std::chrono::milliseconds ws_ping_interval{25'000};
    std::chrono::milliseconds ws_pong_timeout{10'000};
    // permessage-deflate (RFC 7692), accepted when a client offers it (browsers do). Each message is compressed
    // once, without context takeover, and the compressed frame shared by every subscriber that negotiated it;
    // envelopes and replies shorter than ws_compression_min_size bytes, or that deflate does not shrink, go
    // uncompressed. The level is zlib's (1 fastest to 9 smallest). Client messages may be compressed too: they
    // inflate to at most max_message_size bytes, or the connection is closed with 1009.
    bool ws_compression = true;
    std::size_t ws_compression_level = 6;
    std::size_t ws_compression_min_size = 128;

    // Outbound queue of each channel; a channel past either bound is closed as a slow consumer (code 4000) and
    // may resume from history.
    std::size_t max_queue_bytes = 8 * 1024 * 1024;
    std::size_t max_queue_messages = 16'384;
    // SO_SNDBUF of client sockets in bytes; 0 leaves the kernel's autotuning (which may buffer megabytes per
    // connection before the queue above even starts to fill).
    std::size_t socket_send_buffer = 0;
    // Each loop turn's sends to plain TCP connections leave in one io_uring submission instead of one sendmsg
    // each (the same sends, one system call: docs/benchmarks.md). Where io_uring is unavailable (a kernel
    // before 5.6, a container's seccomp profile) the server says so in its log and sends one by one.
    bool io_uring = true;
    // A plain WebSocket or SSE stream, or a waiting long poll, that has had no input for two keepalive ticks (two
    // to three seconds by default) waits for input in the loop's own epoll set instead of Asio's: Asio's reactor
    // entry and the pending wait are freed (190-280 bytes per idle stream as measured, docs/benchmarks.md). A
    // plain SSE stream, whose client sends nothing, does so as soon as its response head is out, and a plain
    // WebSocket that has sent 1 to 8 messages (its subscriptions), or that the server subscribed, each time its
    // output is out.
    // Sending is unchanged; input, or a send that must wait, takes the socket back first (docs/architecture.md).
    bool park_idle = true;
    // How long this node keeps following a topic or pattern (its backplane subscription) after its last local
    // subscriber left: released between this and twice this later, unless a subscriber is back first. A long
    // poll leaves its topic with every answer and is back with its next request; so is a reconnecting client.
    // 0 unsubscribes at once, as the in-memory backplane always does (it hands every topic to its node anyway).
    // At most 16,384 names linger; past that, a name is released at once.
    std::chrono::milliseconds topic_linger{1'000};

    // Server-Sent Events.
    std::chrono::milliseconds sse_retry{2'000};    // the reconnection delay sent to EventSource (retry:)
    std::chrono::milliseconds sse_heartbeat{15'000};  // a comment line on streams idle this long (proxies, dead peers)

    // Long polling.
    std::chrono::milliseconds poll_hold{25'000};   // how long a poll waits for a message before answering empty
    std::size_t max_poll_messages = 1'000;         // messages in one poll answer; the rest come with the next poll
    std::size_t max_poll_bytes = 1024 * 1024;      // bytes of messages in one poll answer (one message always fits)

    // How long closing connections may take to flush their last bytes on stop() before they are cut.
    std::chrono::milliseconds close_timeout{5'000};

    // History kept by the embedded memory backplane. Another backplane given to the server is built with its
    // own history_options, but reload() hands these to it too when it is the Redis one.
    history_options history;

    // Presence: who is in a topic.
    presence_options presence;

    // Authentication, topic permissions, allowed origins and rate limits (docs/security.md).
    security_options security;

    // Proxy hooks over HTTP: the application's backend decides connects, refreshes, subscribes and publishes
    // (docs/integration.md). Installed at start() around the hooks set then; a reload keeps the started ones.
    proxy_options proxy;

    // Namespaces: options per topic prefix "<name>:". Empty: every topic is alike. With any, a client's topic
    // (or pattern) whose text before its first ':' names none is refused with unknown_namespace; topics without
    // a ':' take the server-wide options. Read at each subscribe and publish: a reload applies at once (but
    // their proxy URLs, read at start()).
    std::vector<namespace_options> namespaces;
};

}  // namespace switchboard
