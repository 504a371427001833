#include "config_keys.hpp"

#include "config_namespaces.hpp"
#include "config_values.hpp"

#include <algorithm>
#include <iterator>
#include <cctype>
#include <set>

namespace switchboard_server {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
constexpr std::uint64_t second = 1'000, minute = 60 * second, hour = 60 * minute, day = 24 * hour;

// The ranges keep out values that make no sense or cannot be meant: a zero where zero would stall or spin
// (a ping interval, a queue that holds nothing), and bounds far past any sane deployment, which are typos.
// Keepalive ticks are derived from the smallest of ping, pong and heartbeat, hence their 100 ms floor.
// A queue needs room for two frames: replays refill it only up to half its bounds.
// clang-format off
config_key const keys[]{
    {"listen", value_kind::listen, 0, 0, "--listen",
     "HOST:PORT to listen on; port 0 picks a free port",
     [](server_config& c) -> auto& { return c.server; }},
    {"threads", value_kind::count, 1, 1024, "--threads",
     "event loops, one thread each, sharing the port as nodes of one cluster; 1: a single loop",
     [](server_config& c) -> auto& { return c.threads; }},

    {"tls.cert_file", value_kind::file, 0, 0, "--tls-cert",
     "certificate chain (PEM, leaf first) for https:// and wss:// on the same port; \"\" turns TLS off",
     [](server_config& c) -> auto& { return c.server.tls_cert_file; }},
    {"tls.key_file", value_kind::file, 0, 0, "--tls-key",
     "the certificate's private key (PEM, unencrypted)",
     [](server_config& c) -> auto& { return c.server.tls_key_file; }},
    {"tls.only", value_kind::boolean, 0, 0, "--tls-only",
     "refuse clients that do not speak TLS (closed unanswered)",
     [](server_config& c) -> auto& { return c.server.tls_only; }},

    {"limits.max_message_size", value_kind::size, 1, 256 * MiB, "--max-message-size",
     "largest WebSocket message or POST /publish body",
     [](server_config& c) -> auto& { return c.server.max_message_size; }},
    {"limits.max_header_size", value_kind::size, 512, 1 * MiB, "",
     "largest HTTP request line and headers",
     [](server_config& c) -> auto& { return c.server.max_header_size; }},
    {"limits.max_subscriptions", value_kind::count, 1, 1'000'000, "--max-subscriptions",
     "topics one channel may subscribe to",
     [](server_config& c) -> auto& { return c.server.max_subscriptions; }},
    {"limits.max_resume_topics", value_kind::count, 1, 1'000'000, "",
     "topics one pattern resume may replay; more: too_many_topics",
     [](server_config& c) -> auto& { return c.server.max_resume_topics; }},
    {"limits.max_pending_commands", value_kind::count, 1, 1'000'000, "",
     "commands of one WebSocket waiting on a hook or the backplane; more: too_many_pending",
     [](server_config& c) -> auto& { return c.server.max_pending_commands; }},
    {"limits.max_pending_bytes", value_kind::size, 1 * KiB, 1 * GiB, "",
     "command text those waiting commands may hold; more: too_many_pending",
     [](server_config& c) -> auto& { return c.server.max_pending_bytes; }},
    {"limits.request_timeout", value_kind::duration, 100, 1 * hour, "",
     "time to receive a whole HTTP request; keep-alive idle time",
     [](server_config& c) -> auto& { return c.server.request_timeout; }},
    {"limits.max_connections", value_kind::count, 1, 10'000'000, "--max-connections",
     "client connections in all",
     [](server_config& c) -> auto& { return c.server.max_connections; }},
    {"limits.max_connections_per_address", value_kind::count, 1, 10'000'000, "--max-connections-per-address",
     "client connections per IP address",
     [](server_config& c) -> auto& { return c.server.max_connections_per_address; }},
    {"limits.max_queue_bytes", value_kind::size, 1 * KiB, 4 * GiB, "--max-queue-bytes",
     "a channel's outbound queue in bytes; past it the channel is closed (4000)",
     [](server_config& c) -> auto& { return c.server.max_queue_bytes; }},
    {"limits.max_queue_messages", value_kind::count, 2, 10'000'000, "",
     "a channel's outbound queue in messages",
     [](server_config& c) -> auto& { return c.server.max_queue_messages; }},
    {"limits.socket_send_buffer", value_kind::size, 0, 1 * GiB, "",
     "SO_SNDBUF of client sockets; 0 keeps the kernel's autotuning",
     [](server_config& c) -> auto& { return c.server.socket_send_buffer; }},
    {"limits.close_timeout", value_kind::duration, 0, 10 * minute, "",
     "time a closing connection may take to flush its last bytes",
     [](server_config& c) -> auto& { return c.server.close_timeout; }},

    {"http2.enabled", value_kind::boolean, 0, 0, "",
     "HTTP/2 on the same port (h2c with prior knowledge); --no-http2 turns it off",
     [](server_config& c) -> auto& { return c.server.http2.enabled; }},
    {"http2.max_concurrent_streams", value_kind::count, 1, 1'000'000, "",
     "streams one HTTP/2 connection may have open at once; more are refused (RST_STREAM REFUSED_STREAM)",
     [](server_config& c) -> auto& { return c.server.http2.max_concurrent_streams; }},
    {"http2.initial_window_size", value_kind::size, 1 * KiB, 2 * GiB - 1, "",
     "each HTTP/2 stream's receive window",
     [](server_config& c) -> auto& { return c.server.http2.initial_window_size; }},
    {"http2.max_header_list_size", value_kind::size, 1 * KiB, 1 * MiB, "",
     "largest HTTP/2 request header list (names, values and 32 bytes per field); more: 431",
     [](server_config& c) -> auto& { return c.server.http2.max_header_list_size; }},

    {"io.uring", value_kind::boolean, 0, 0, "--io-uring",
     "each loop turn's sends in one io_uring submission (false: one sendmsg per connection)",
     [](server_config& c) -> auto& { return c.server.io_uring; }},
    {"io.park_idle", value_kind::boolean, 0, 0, "--park-idle",
     "a stream or waiting poll without input for two keepalive ticks waits in the loop's own epoll set (less memory)",
     [](server_config& c) -> auto& { return c.server.park_idle; }},
    {"io.topic_linger", value_kind::duration, 0, 10 * minute, "",
     "how long the node keeps following a topic (its backplane subscription) after its last local subscriber left",
     [](server_config& c) -> auto& { return c.server.topic_linger; }},

    {"websocket.path", value_kind::url_path, 0, 0, "", "WebSocket endpoint",
     [](server_config& c) -> auto& { return c.server.websocket_path; }},
    {"websocket.ping_interval", value_kind::duration, 100, 1 * hour, "--ping-interval",
     "a WebSocket silent this long is pinged",
     [](server_config& c) -> auto& { return c.server.ws_ping_interval; }},
    {"websocket.pong_timeout", value_kind::duration, 100, 1 * hour, "",
     "silent for ping interval + this: closed as dead (4003)",
     [](server_config& c) -> auto& { return c.server.ws_pong_timeout; }},
    {"websocket.compression", value_kind::boolean, 0, 0, "--websocket-compression",
     "permessage-deflate when the client offers it: each message compressed once, shared by its subscribers",
     [](server_config& c) -> auto& { return c.server.ws_compression; }},
    {"websocket.compression_level", value_kind::count, 1, 9, "",
     "zlib level of permessage-deflate: 1 fastest, 9 smallest",
     [](server_config& c) -> auto& { return c.server.ws_compression_level; }},
    {"websocket.compression_min_size", value_kind::size, 0, 256 * MiB, "",
     "messages and replies shorter than this go uncompressed",
     [](server_config& c) -> auto& { return c.server.ws_compression_min_size; }},

    {"sse.path", value_kind::url_path, 0, 0, "", "Server-Sent Events endpoint",
     [](server_config& c) -> auto& { return c.server.sse_path; }},
    {"sse.retry", value_kind::duration, 0, 1 * hour, "",
     "reconnection delay sent to EventSource (retry:)",
     [](server_config& c) -> auto& { return c.server.sse_retry; }},
    {"sse.heartbeat", value_kind::duration, 100, 1 * hour, "",
     "a comment line on a stream idle this long",
     [](server_config& c) -> auto& { return c.server.sse_heartbeat; }},

    {"long_polling.path", value_kind::url_path, 0, 0, "", "long-polling endpoint",
     [](server_config& c) -> auto& { return c.server.poll_path; }},
    {"long_polling.hold", value_kind::duration, 0, 10 * minute, "--poll-hold",
     "how long a poll waits for a message before answering empty",
     [](server_config& c) -> auto& { return c.server.poll_hold; }},
    {"long_polling.max_messages_per_poll", value_kind::count, 1, 1'000'000, "",
     "messages in one poll answer; the rest come with the next poll",
     [](server_config& c) -> auto& { return c.server.max_poll_messages; }},
    {"long_polling.max_bytes_per_poll", value_kind::size, 1 * KiB, 1 * GiB, "",
     "bytes of messages in one poll answer (one message always fits); the rest come with the next poll",
     [](server_config& c) -> auto& { return c.server.max_poll_bytes; }},

    {"publish.path", value_kind::url_path, 0, 0, "", "HTTP publishing endpoint (POST)",
     [](server_config& c) -> auto& { return c.server.publish_path; }},
    {"transports", value_kind::transports, 0, 0, "--transports",
     "transports that answer (websocket, sse, long-polling); the others refuse with 503 transport_disabled",
     [](server_config& c) -> auto& { return c.server.transports; }},
    {"client.path", value_kind::optional_url_path, 0, 0, "", "the browser client switchboard.js; \"\" turns it off",
     [](server_config& c) -> auto& { return c.server.client_path; }},
    {"metrics.path", value_kind::optional_url_path, 0, 0, "", "Prometheus metrics endpoint; \"\" turns it off",
     [](server_config& c) -> auto& { return c.server.metrics_path; }},
    {"health.path", value_kind::optional_url_path, 0, 0, "", "liveness endpoint; \"\" turns it off",
     [](server_config& c) -> auto& { return c.server.health_path; }},
    {"health.ready_path", value_kind::optional_url_path, 0, 0, "", "readiness endpoint; \"\" turns it off",
     [](server_config& c) -> auto& { return c.server.ready_path; }},
    {"admin.token", value_kind::secret, 0, 0, "", "the admin view's token (/admin); \"\" turns the view off",
     [](server_config& c) -> auto& { return c.server.admin_token; }},
    {"api.key", value_kind::secret, 0, 0, "", "the server API's key (/api/...); \"\" turns the API off",
     [](server_config& c) -> auto& { return c.server.api_key; }},

    {"history.max_messages", value_kind::count, 0, 100'000'000, "--history-max-messages",
     "messages kept per topic for resuming clients; 0 keeps none",
     [](server_config& c) -> auto& { return c.server.history.limits.max_messages; }},
    {"history.max_age", value_kind::seconds, 0, 365 * day, "--history-max-age",
     "age past which a message leaves history (whole seconds)",
     [](server_config& c) -> auto& { return c.server.history.limits.max_age; }},
    {"history.max_bytes", value_kind::size, 1 * KiB, 1024 * GiB, "",
     "bytes of history across all topics; past it the oldest messages go first",
     [](server_config& c) -> auto& { return c.server.history.max_bytes; }},
    {"history.max_topics", value_kind::count, 1, 100'000'000, "",
     "topics with state; a publish or subscribe to a new topic past it fails (idle topics give their room first)",
     [](server_config& c) -> auto& { return c.server.history.max_topics; }},
    {"history.max_topics_per_client", value_kind::count, 0, 100'000'000, "",
     "topics one client (user, or IP address) made that still have state; 0: no bound per client",
     [](server_config& c) -> auto& { return c.server.history.max_topics_per_client; }},
    {"history.sweep_interval", value_kind::seconds, 1 * second, 1 * hour, "",
     "how often expired history and idle topics are dropped (whole seconds)",
     [](server_config& c) -> auto& { return c.server.history.sweep_interval; }},
    {"history.idempotency_window", value_kind::duration, 0, 1 * day, "",
     "how long a publish's idempotency key is remembered: a retry with it within this gets the first publish's "
     "position and publishes nothing; 0: keys are not remembered",
     [](server_config& c) -> auto& { return c.server.history.idempotency_window; }},
    {"history.max_idempotency_keys", value_kind::count, 0, 100'000'000, "",
     "idempotency keys the memory backplane remembers across topics; past it the oldest is forgotten first",
     [](server_config& c) -> auto& { return c.server.history.max_idempotency_keys; }},
    {"history.overrides", value_kind::history_overrides, 0, 0, "",
     "per-prefix history limits (a JSON array; longest prefix wins)",
     [](server_config& c) -> auto& { return c.server.history; }},

    {"namespaces", value_kind::namespaces, 0, 0, "",
     "options per topic prefix \"NAME:\" (a JSON object of namespaces); with any, other NAME: prefixes are refused",
     [](server_config& c) -> auto& { return c; }},

    {"presence.max_members", value_kind::count, 1, 100'000'000, "",
     "members of one topic's presence; a join past it: too_many_members",
     [](server_config& c) -> auto& { return c.server.presence.max_members; }},
    {"presence.grace", value_kind::duration, 0, 1 * hour, "",
     "how long a member whose connection closed stays present, for its client to come back with its resume key",
     [](server_config& c) -> auto& { return c.server.presence.grace; }},
    {"presence.max_info_bytes", value_kind::size, 0, 64 * KiB, "",
     "bytes of a member's public info (the token's presence claim); larger: message_too_large",
     [](server_config& c) -> auto& { return c.server.presence.max_info_bytes; }},
    {"presence.max_page", value_kind::count, 1, 100'000, "",
     "members in one presence snapshot page; a larger limit is lowered to it",
     [](server_config& c) -> auto& { return c.server.presence.max_page; }},
    {"presence.batch_interval", value_kind::duration, 0, 1 * minute, "",
     "a topic's joins and leaves within it leave as one presence_diff event; 0: each as it happens",
     [](server_config& c) -> auto& { return c.server.presence.batch_interval; }},
    {"presence.max_event_members", value_kind::count, 0, 100'000'000, "",
     "past this many listeners of a topic on a node, they get its counts instead of join, leave and diff events; "
     "0: no bound",
     [](server_config& c) -> auto& { return c.server.presence.max_event_members; }},
    {"presence.counts_interval", value_kind::duration, 10, 1 * hour, "",
     "how often at most a topic past presence.max_event_members sends its counts while members come and go",
     [](server_config& c) -> auto& { return c.server.presence.counts_interval; }},
    {"presence.path", value_kind::optional_url_path, 0, 0, "",
     "GET here answers a topic's presence (a snapshot page, or counts with stats=1); \"\" turns it off",
     [](server_config& c) -> auto& { return c.server.presence.path; }},

    {"redis.url", value_kind::redis_url, 0, 0, "--redis",
     "redis://[:password@]host[:port][/db] to share topics with other nodes; \"\" keeps them in memory",
     [](server_config& c) -> auto& { return c.redis.url; }},
    {"redis.prefix", value_kind::key_prefix, 0, 0, "",
     "prefix of every Redis key and pub/sub channel (deployments sharing one Redis differ here)",
     [](server_config& c) -> auto& { return c.redis.prefix; }},
    {"redis.connect_timeout", value_kind::duration, 100, 1 * minute, "",
     "time a connection to Redis may take",
     [](server_config& c) -> auto& { return c.redis.connect_timeout; }},
    {"redis.command_timeout", value_kind::duration, 100, 10 * minute, "",
     "a Redis command unanswered this long drops the connection (and reconnects)",
     [](server_config& c) -> auto& { return c.redis.command_timeout; }},
    {"redis.reconnect_min", value_kind::duration, 10, 1 * minute, "",
     "first delay before reconnecting to Redis (doubled at each failure, with jitter)",
     [](server_config& c) -> auto& { return c.redis.reconnect_min; }},
    {"redis.reconnect_max", value_kind::duration, 100, 10 * minute, "",
     "longest delay between reconnection attempts",
     [](server_config& c) -> auto& { return c.redis.reconnect_max; }},
    {"redis.position_ttl", value_kind::seconds, 1 * second, 365 * day, "",
     "how long a topic's offset and epoch outlive its last publish in Redis (whole seconds)",
     [](server_config& c) -> auto& { return c.redis.position_ttl; }},
    {"redis.max_pending", value_kind::count, 1, 10'000'000, "",
     "Redis commands awaiting an answer; publishes past it are refused (503)",
     [](server_config& c) -> auto& { return c.redis.max_pending; }},
    {"redis.max_held", value_kind::count, 1, 10'000'000, "",
     "messages a topic holds while its node reads missed ones; past it subscribers are told of a gap",
     [](server_config& c) -> auto& { return c.redis.max_held; }},
    {"redis.recent_bytes", value_kind::size, 0, 64 * GiB, "",
     "bytes of recent messages the node keeps to answer history reads from among a topic's last ones without Redis",
     [](server_config& c) -> auto& { return c.redis.recent_bytes; }},
    {"redis.max_pattern_topics", value_kind::count, 1, 10'000'000, "",
     "topics a node follows through its patterns; past it the least recently seen is forgotten",
     [](server_config& c) -> auto& { return c.redis.max_pattern_topics; }},
    {"redis.max_indexed_topics", value_kind::count, 1, 10'000'000, "",
     "topics the shared topic index keeps for pattern resumes; past it the least recently published is let go",
     [](server_config& c) -> auto& { return c.redis.max_indexed_topics; }},
    {"redis.presence_expiry", value_kind::duration, 100, 1 * hour, "",
     "how long a presence member outlives its node's last refresh (every third of it): a dead node's members leave then",
     [](server_config& c) -> auto& { return c.redis.presence_expiry; }},

    {"nats.url", value_kind::nats_url, 0, 0, "--nats",
     "nats://[user:password@]host[:port] (tls:// for TLS) to share topics through NATS JetStream; \"\": no NATS",
     [](server_config& c) -> auto& { return c.nats.url; }},
    {"nats.tls_ca_file", value_kind::file, 0, 0, "",
     "with tls://: PEM file of the certificate authorities NATS' certificate must chain to; \"\": the system's",
     [](server_config& c) -> auto& { return c.nats.tls_ca_file; }},
    {"nats.prefix", value_kind::subject_prefix, 0, 0, "",
     "first subject tokens of every subject used (deployments sharing one NATS differ here)",
     [](server_config& c) -> auto& { return c.nats.prefix; }},
    {"nats.stream", value_kind::text, 0, 0, "",
     "the JetStream stream holding history; \"\": the prefix with other characters than A-Z a-z 0-9 - as _",
     [](server_config& c) -> auto& { return c.nats.stream; }},
    {"nats.storage", value_kind::text, 0, 0, "",
     "the stream's storage: file (survives a NATS restart) or memory",
     [](server_config& c) -> auto& { return c.nats.storage; }},
    {"nats.replicas", value_kind::count, 1, 5, "",
     "the stream's replicas in a clustered JetStream",
     [](server_config& c) -> auto& { return c.nats.replicas; }},
    {"nats.manage_stream", value_kind::boolean, 0, 0, "",
     "create the stream when missing and update its limits; false: expect it as configured",
     [](server_config& c) -> auto& { return c.nats.manage_stream; }},
    {"nats.position_ttl", value_kind::seconds, 1 * second, 365 * day, "",
     "how long a topic's position (its last message) outlives its last publish in the stream (whole seconds)",
     [](server_config& c) -> auto& { return c.nats.position_ttl; }},
    {"nats.max_bytes", value_kind::size, 0, 1024 * GiB, "",
     "bytes of history in the stream across all topics, oldest first out; 0: NATS' own limits only",
     [](server_config& c) -> auto& { return c.nats.max_bytes; }},
    {"nats.connect_timeout", value_kind::duration, 100, 1 * minute, "",
     "time a connection to NATS may take (the first one delays the start by up to this)",
     [](server_config& c) -> auto& { return c.nats.connect_timeout; }},
    {"nats.reconnect_wait", value_kind::duration, 10, 1 * minute, "",
     "delay between reconnection attempts, plus up to as much jitter",
     [](server_config& c) -> auto& { return c.nats.reconnect_wait; }},
    {"nats.request_timeout", value_kind::duration, 100, 10 * minute, "",
     "a publish or history read NATS leaves unanswered this long fails (503)",
     [](server_config& c) -> auto& { return c.nats.request_timeout; }},
    {"nats.max_pending", value_kind::count, 1, 10'000'000, "",
     "publishes awaiting NATS; publishes past it are refused (503)",
     [](server_config& c) -> auto& { return c.nats.max_pending; }},
    {"nats.max_held", value_kind::count, 1, 10'000'000, "",
     "messages a topic holds while its node reads missed ones; past it subscribers are told of a gap",
     [](server_config& c) -> auto& { return c.nats.max_held; }},
    {"nats.recent_bytes", value_kind::size, 0, 64 * GiB, "",
     "bytes of recent messages the node keeps to answer history reads from among a topic's last ones without NATS",
     [](server_config& c) -> auto& { return c.nats.recent_bytes; }},
    {"nats.max_pattern_topics", value_kind::count, 1, 10'000'000, "",
     "topics a node follows through its patterns; past it the least recently seen is forgotten",
     [](server_config& c) -> auto& { return c.nats.max_pattern_topics; }},
    {"nats.presence_expiry", value_kind::duration, 100, 1 * hour, "",
     "how long a node may go unheard (it says so every third of it) before its presence members leave",
     [](server_config& c) -> auto& { return c.nats.presence_expiry; }},

    {"auth.jwt_secret", value_kind::secret, 0, 0, "--jwt-secret",
     "HS256 key: a valid token is then required to connect; \"\" turns HS256 off",
     [](server_config& c) -> auto& { return c.server.security.jwt_secret; }},
    {"auth.jwt_public_key", value_kind::pem_file, 0, 0, "--jwt-public-key",
     "file with the RS256 public key (PEM): a valid token is then required to connect",
     [](server_config& c) -> auto& { return c.server.security.jwt_public_key; }},
    {"auth.jwt_audience", value_kind::text, 0, 0, "",
     "when set, a token's \"aud\" must name it",
     [](server_config& c) -> auto& { return c.server.security.jwt_audience; }},
    {"auth.jwt_issuer", value_kind::text, 0, 0, "",
     "when set, a token's \"iss\" must equal it",
     [](server_config& c) -> auto& { return c.server.security.jwt_issuer; }},
    {"auth.jwt_leeway", value_kind::seconds, 0, 1 * hour, "",
     "clock skew allowed on exp and nbf (whole seconds)",
     [](server_config& c) -> auto& { return c.server.security.jwt_leeway; }},
    {"auth.token_cookie", value_kind::text, 0, 0, "",
     "cookie that may carry the token; \"\" reads no cookie",
     [](server_config& c) -> auto& { return c.server.security.token_cookie; }},
    {"auth.allow_anonymous", value_kind::boolean, 0, 0, "",
     "with a JWT key set, still let clients without a token in (see permissions.anonymous_*)",
     [](server_config& c) -> auto& { return c.server.security.allow_anonymous; }},
    {"auth.token_expiry_warning", value_kind::duration, 0, 1 * day, "",
     "a WebSocket whose token expires within this gets an \"expiring\" frame",
     [](server_config& c) -> auto& { return c.server.security.token_expiry_warning; }},

    {"proxy.connect_url", value_kind::text, 0, 0, "",
     "backend URL (http://HOST:PORT/PATH) that decides every connect and who the client is; \"\" asks none",
     [](server_config& c) -> auto& { return c.server.proxy.connect_url; }},
    {"proxy.refresh_url", value_kind::text, 0, 0, "",
     "backend URL that decides a WebSocket's token refresh",
     [](server_config& c) -> auto& { return c.server.proxy.refresh_url; }},
    {"proxy.subscribe_url", value_kind::text, 0, 0, "",
     "backend URL that decides every subscribe (and presence snapshot), on every transport",
     [](server_config& c) -> auto& { return c.server.proxy.subscribe_url; }},
    {"proxy.publish_url", value_kind::text, 0, 0, "",
     "backend URL that decides every client publish: allow, refuse or replace the data",
     [](server_config& c) -> auto& { return c.server.proxy.publish_url; }},
    {"proxy.timeout", value_kind::duration, 10, 1 * minute, "",
     "a backend answer not complete within this fails the client's request with backend_unavailable",
     [](server_config& c) -> auto& { return c.server.proxy.timeout; }},
    {"proxy.max_in_flight", value_kind::count, 1, 1'000'000, "",
     "requests waiting for the backend at once, per loop; past it requests fail at once (backend_unavailable)",
     [](server_config& c) -> auto& { return c.server.proxy.max_in_flight; }},
    {"proxy.max_idle_connections", value_kind::count, 0, 100'000, "",
     "connections to the backend kept open for reuse, per loop",
     [](server_config& c) -> auto& { return c.server.proxy.max_idle_connections; }},
    {"proxy.headers", value_kind::text_list, 0, 0, "",
     "request fields forwarded to the connect backend, by name",
     [](server_config& c) -> auto& { return c.server.proxy.headers; }},
    {"proxy.cookies", value_kind::text_list, 0, 0, "",
     "cookies forwarded to the connect backend, by name",
     [](server_config& c) -> auto& { return c.server.proxy.cookies; }},

    {"permissions.anonymous_subscribe", value_kind::text_list, 0, 0, "",
     "topic patterns clients without a token may subscribe to (\"*\", \"prefix*\", \"name\")",
     [](server_config& c) -> auto& { return c.server.security.anonymous_subscribe; }},
    {"permissions.anonymous_publish", value_kind::text_list, 0, 0, "",
     "topic patterns clients without a token may publish to",
     [](server_config& c) -> auto& { return c.server.security.anonymous_publish; }},
    {"permissions.user_subscribe", value_kind::text_list, 0, 0, "",
     "topic patterns clients with a token may subscribe to (its sub_topics claim may narrow them)",
     [](server_config& c) -> auto& { return c.server.security.user_subscribe; }},
    {"permissions.user_publish", value_kind::text_list, 0, 0, "",
     "topic patterns clients with a token may publish to (its pub_topics claim may narrow them)",
     [](server_config& c) -> auto& { return c.server.security.user_publish; }},

    {"origins.allowed", value_kind::text_list, 0, 0, "--allowed-origin",
     "web origins allowed (CORS, WebSocket upgrades); others get 403; empty: no checks (repeat the flag)",
     [](server_config& c) -> auto& { return c.server.security.allowed_origins; }},

    {"rate_limits.channel_messages_per_second", value_kind::per_second, 0, 1'000'000, "",
     "commands per second from one WebSocket; 0 is no limit",
     [](server_config& c) -> auto& { return c.server.security.channel_messages.per_second; }},
    {"rate_limits.channel_messages_burst", value_kind::count, 0, 10'000'000, "",
     "commands one WebSocket may send at once past its rate; 0 is one second's worth",
     [](server_config& c) -> auto& { return c.server.security.channel_messages.burst; }},
    {"rate_limits.user_messages_per_second", value_kind::per_second, 0, 1'000'000, "",
     "commands and POST /publish per second from one user (anonymous POST: one IP); 0 is no limit",
     [](server_config& c) -> auto& { return c.server.security.user_messages.per_second; }},
    {"rate_limits.user_messages_burst", value_kind::count, 0, 10'000'000, "",
     "burst of the per-user rate; 0 is one second's worth",
     [](server_config& c) -> auto& { return c.server.security.user_messages.burst; }},
    {"rate_limits.address_connections_per_second", value_kind::per_second, 0, 1'000'000, "",
     "new connections per second from one IP address; 0 is no limit",
     [](server_config& c) -> auto& { return c.server.security.address_connections.per_second; }},
    {"rate_limits.address_connections_burst", value_kind::count, 0, 10'000'000, "",
     "burst of the per-address connection rate; 0 is one second's worth",
     [](server_config& c) -> auto& { return c.server.security.address_connections.burst; }},
    {"rate_limits.max_strikes", value_kind::count, 1, 1'000'000, "",
     "commands refused in a row for rate before the WebSocket is closed (4005)",
     [](server_config& c) -> auto& { return c.server.security.max_rate_strikes; }},

    {"log.level", value_kind::level, 0, 0, "--log-level",
     "trace, debug, info, warn, error, critical or off",
     [](server_config& c) -> auto& { return c.log.level; }},
    {"log.format", value_kind::format, 0, 0, "--log-format",
     "text (spdlog's pattern) or json (one object per line)",
     [](server_config& c) -> auto& { return c.log.format; }},
};
// clang-format on

std::string describe(value_kind kind, std::uint64_t v)
{
    if (kind == value_kind::size)
        return format_size(v);
    if (kind == value_kind::duration || kind == value_kind::seconds)
        return format_duration(milliseconds(v));
    return std::to_string(v);
}

// Reads a number of `kind` in the key's range: counts and bytes as they are, durations in milliseconds.
parsed<std::uint64_t> read_number(value_kind kind, std::uint64_t min, std::uint64_t max, json const& value)
{
    parsed<std::uint64_t> r;
    if (kind == value_kind::count) {
        r = parse_count(value);
    } else if (kind == value_kind::size) {
        r = parse_size(value);
    } else {
        auto d = parse_duration(value);
        r = {static_cast<std::uint64_t>(d.value.count()), std::move(d.error)};
    }
    if (!r)
        return r;
    if (r.value < min || r.value > max)
        r.error = "must be from " + describe(kind, min) + " to " + describe(kind, max) + ", got " + describe(kind, r.value);
    else if (kind == value_kind::seconds && r.value % second != 0)
        r.error = "must be whole seconds, got " + describe(kind, r.value);
    return r;
}

parsed<std::string> read_string(value_kind kind, json const& value)
{
    if (kind == value_kind::secret)
        return parse_secret(value);
    if (kind == value_kind::redis_url)
        return parse_redis_url(value);
    if (kind == value_kind::key_prefix)
        return parse_key_prefix(value);
    if (kind == value_kind::nats_url)
        return parse_nats_url(value);
    if (kind == value_kind::subject_prefix)
        return parse_subject_prefix(value);
    if (kind == value_kind::text)
        return parse_text(value);
    if (kind == value_kind::pem_file)
        return read_pem_file(value);
    if (kind == value_kind::optional_url_path && value == "")
        return {};  // the endpoint is off
    if (kind == value_kind::file) {
        if (!value.is_string())
            return {{}, "expected a file's path as a string, got " + show(value)};
        return {value.get<std::string>(), {}};
    }
    return parse_url_path(value);
}

}  // namespace

bool read_history_limit(std::string const& name, json const& value, std::string const& path, std::string const& origin,
                        switchboard::history_limits& limits, std::vector<config_error>& errors)
{
    bool const messages = name == "max_messages";
    if (!messages && name != "max_age")
        return false;
    auto const& key = *find_key(messages ? "history.max_messages" : "history.max_age");
    auto const n = read_number(key.kind, key.min, key.max, value);
    if (!n)
        errors.push_back({path, n.error, origin});
    else if (messages)
        limits.max_messages = n.value;
    else
        limits.max_age = std::chrono::duration_cast<std::chrono::seconds>(milliseconds(n.value));
    return true;
}

namespace {

// The rule list: every rule's errors are reported; the list is taken only if all are right. A rule that leaves
// out max_messages or max_age takes the server-wide value, so apply this after those keys.
void apply_overrides(json const& value, std::string const& origin, switchboard::history_options& history,
                     std::vector<config_error>& errors)
{
    std::string const path = "history.overrides";
    if (!value.is_array()) {
        errors.push_back({path, "expected an array of {\"prefix\", \"max_messages\", \"max_age\"}, got " + show(value), origin});
        return;
    }
    auto const before = errors.size();
    std::vector<switchboard::history_options::prefix_rule> rules;
    std::set<std::string, std::less<>> prefixes;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto const& item = value[i];
        auto const at = path + "[" + std::to_string(i) + "]";
        if (!item.is_object()) {
            errors.push_back({at, "expected an object {\"prefix\", \"max_messages\", \"max_age\"}, got " + show(item), origin});
            continue;
        }
        switchboard::history_options::prefix_rule rule{{}, history.limits};
        if (!item.contains("prefix"))
            errors.push_back({at + ".prefix", "missing: every rule needs the topic prefix it applies to", origin});
        for (auto const& [name, v] : item.items()) {
            auto const key_path = at + "." + name;
            if (name == "prefix") {
                if (!v.is_string() || v.get_ref<std::string const&>().empty())
                    errors.push_back({key_path, "expected a non-empty topic prefix, got " + show(v), origin});
                else if (!prefixes.insert(v.get<std::string>()).second)
                    errors.push_back({key_path, show(v) + " is given by an earlier rule", origin});
                else
                    rule.prefix = v.get<std::string>();
            } else if (!read_history_limit(name, v, key_path, origin, rule.limits, errors)) {
                errors.push_back({key_path, "unknown key (a rule has prefix, max_messages and max_age)", origin});
            }
        }
        rules.push_back(std::move(rule));
    }
    if (errors.size() == before)
        history.overrides = std::move(rules);
}

}  // namespace

std::span<config_key const> config_keys()
{
    return keys;
}

config_key const* find_key(std::string_view path)
{
    auto const it = std::find_if(std::begin(keys), std::end(keys), [&](config_key const& k) { return k.path == path; });
    return it == std::end(keys) ? nullptr : &*it;
}

std::string env_name(std::string_view path)
{
    std::string name = "SWITCHBOARD_";
    for (char const c : path)
        name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

void apply_value(config_key const& key, json const& value, std::string const& origin, server_config& config,
                 std::vector<config_error>& errors)
{
    auto const error = [&](std::string message) { errors.push_back({std::string(key.path), std::move(message), origin}); };
    auto const number = [&](auto set) {
        auto const n = read_number(key.kind, key.min, key.max, value);
        if (!n)
            return error(n.error);
        set(n.value);
    };
    std::visit(
        [&]<class T>(field_ref<T> field) {
            auto& target = field(config);
            if constexpr (std::is_same_v<T, std::size_t>) {
                number([&](std::uint64_t n) { target = static_cast<std::size_t>(n); });
            } else if constexpr (std::is_same_v<T, milliseconds>) {
                number([&](std::uint64_t n) { target = milliseconds(n); });
            } else if constexpr (std::is_same_v<T, std::chrono::seconds>) {
                number([&](std::uint64_t n) { target = std::chrono::duration_cast<std::chrono::seconds>(milliseconds(n)); });
            } else if constexpr (std::is_same_v<T, std::string>) {
                auto p = read_string(key.kind, value);
                p ? void(target = std::move(p.value)) : error(p.error);
            } else if constexpr (std::is_same_v<T, switchboard::server_options>) {
                auto p = parse_listen(value);
                if (!p)
                    return error(p.error);
                target.address = std::move(p.value.host);
                target.port = p.value.port;
            } else if constexpr (std::is_same_v<T, switchboard::history_options>) {
                apply_overrides(value, origin, target, errors);
            } else if constexpr (std::is_same_v<T, server_config>) {
                apply_namespaces(value, origin, target.server, errors);
            } else if constexpr (std::is_same_v<T, bool>) {
                auto p = parse_boolean(value);
                p ? void(target = p.value) : error(p.error);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                auto p = parse_text_list(value);
                p ? void(target = std::move(p.value)) : error(p.error);
            } else if constexpr (std::is_same_v<T, double>) {
                auto p = parse_per_second(value);
                if (p && p.value > static_cast<double>(key.max))
                    p.error = "must be from 0 to " + std::to_string(key.max) + ", got " + show(value);
                p ? void(target = p.value) : error(p.error);
            } else if constexpr (std::is_same_v<T, spdlog::level::level_enum>) {
                auto p = parse_level(value);
                p ? void(target = p.value) : error(p.error);
            } else if constexpr (std::is_same_v<T, switchboard::enabled_transports>) {
                auto p = parse_transports(value);
                p ? void(target = p.value) : error(p.error);
            } else {
                auto p = parse_format(value);
                p ? void(target = p.value) : error(p.error);
            }
        },
        key.field);
}

std::string show_value(config_key const& key, server_config const& config)
{
    auto copy = config;  // the accessors hand out mutable references
    return std::visit(
        [&]<class T>(field_ref<T> field) -> std::string {
            auto const& v = field(copy);
            if constexpr (std::is_same_v<T, std::size_t>)
                return describe(key.kind, v);
            else if constexpr (std::is_same_v<T, milliseconds> || std::is_same_v<T, std::chrono::seconds>)
                return format_duration(std::chrono::duration_cast<milliseconds>(v));
            else if constexpr (std::is_same_v<T, std::string>)
                return (key.kind == value_kind::secret || key.kind == value_kind::pem_file) && !v.empty() ? "(set)" : v;
            else if constexpr (std::is_same_v<T, bool>)
                return v ? "true" : "false";
            else if constexpr (std::is_same_v<T, std::vector<std::string>>)
                return json(v).dump();
            else if constexpr (std::is_same_v<T, double>)
                return json(v).dump();
            else if constexpr (std::is_same_v<T, switchboard::server_options>)
                return v.address.find(':') == std::string::npos ? v.address + ":" + std::to_string(v.port)
                                                                : "[" + v.address + "]:" + std::to_string(v.port);
            else if constexpr (std::is_same_v<T, switchboard::history_options>)
                return v.overrides.empty() ? "[]" : std::to_string(v.overrides.size()) + " rules";
            else if constexpr (std::is_same_v<T, server_config>)
                return v.server.namespaces.empty() ? "{}" : std::to_string(v.server.namespaces.size()) + " namespaces";
            else if constexpr (std::is_same_v<T, bool>)
                return v ? "true" : "false";
            else if constexpr (std::is_same_v<T, spdlog::level::level_enum>)
                return std::string(level_name(v));
            else if constexpr (std::is_same_v<T, switchboard::enabled_transports>)
                return format_transports(v);
            else
                return std::string(format_name(v));
        },
        key.field);
}

}  // namespace switchboard_server
