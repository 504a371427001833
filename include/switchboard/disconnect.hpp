#pragma once
// Why a channel was closed. The same {code, reason} reaches every transport: the WebSocket close frame carries
// it, SSE streams and long polls end with a final "close" event/field holding it.
//
// Code ranges:
//   1000-1015  the WebSocket standard ones (1000 normal, 1001 going away: the server is stopping)
//   4000-4499  closed by switchboard, reconnecting (and resuming from history) is expected to work
//   4500-4999  closed by switchboard, terminal: reconnecting with the same request will fail again
//   3000-3999  the application's own codes (close(disconnect{3xxx, ...}) from a hook)

#include <cstdint>
#include <string>

namespace switchboard {

struct disconnect {
    std::uint16_t code = 1000;
    std::string reason;

    static disconnect normal() { return {1000, "normal closure"}; }
    static disconnect shutdown() { return {1001, "server shutting down"}; }
    static disconnect protocol_error(std::string why) { return {1002, std::move(why)}; }
    static disconnect invalid_utf8() { return {1007, "invalid UTF-8 in a text message"}; }
    static disconnect slow_consumer() { return {4000, "slow consumer: outbound queue full"}; }
    static disconnect write_failed() { return {4001, "connection lost"}; }
    static disconnect internal_error() { return {4002, "internal error"}; }
    static disconnect no_pong() { return {4003, "no answer to pings"}; }
    /// The channel would miss messages of a subscribed topic: the node lost some it cannot recover, or history
    /// dropped part of a replay under way. Resume to learn what is left.
    static disconnect stream_gap() { return {4010, "stream gap: resume from your last position"}; }
    static disconnect by_operator() { return {4006, "disconnected by the operator"}; }
    static disconnect token_expired() { return {4004, "token expired"}; }
    static disconnect rate_limited() { return {4005, "rate limit exceeded again and again"}; }
    static disconnect rejected() { return {4500, "rejected by the application"}; }

    /// True when the client should not reconnect with the same request.
    bool terminal() const noexcept { return code >= 4500 && code <= 4999; }
};

}  // namespace switchboard
