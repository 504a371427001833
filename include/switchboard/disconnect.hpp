#pragma once
// Why a channel was closed. The same {code, reason} reaches every transport: the WebSocket close frame carries
// it, SSE streams and long polls end with a final "close" event/field holding it.
//
// Code ranges (as centrifuge's): each owner has a "reconnect" range and a "terminal" one, so a client knows what
// to do with a code it has never seen.
//   1000-1015  the WebSocket standard ones (1000 normal, 1001 going away: the server is stopping)
//   3000-3499  the application's own, reconnect: the client reconnects (with backoff) and resumes
//   3500-3999  the application's own, terminal: the client must not reconnect
//   4000-4499  closed by switchboard, reconnecting (and resuming from history) is expected to work
//   4500-4999  closed by switchboard, terminal: reconnecting with the same request will fail again
// An application closes a channel it holds (from a hook, or later on the loop thread) with
// channel.close(disconnect::reconnect(3000, "...")) or close(disconnect::terminal(3500, "...")).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

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

    /// An application's close after which the client reconnects and resumes: `code` in 3000-3499, else
    /// std::invalid_argument (misuse). The reason reaches the client; keep it short (a WebSocket close frame
    /// holds 123 bytes of it).
    static disconnect reconnect(std::uint16_t code, std::string reason)
    {
        if (code < 3000 || code > 3499)
            throw std::invalid_argument("an application's reconnect close code is in 3000-3499");
        return {code, std::move(reason)};
    }
    /// An application's close after which the client must not reconnect: `code` in 3500-3999, else
    /// std::invalid_argument.
    static disconnect terminal(std::uint16_t code, std::string reason)
    {
        if (code < 3500 || code > 3999)
            throw std::invalid_argument("an application's terminal close code is in 3500-3999");
        return {code, std::move(reason)};
    }

    /// True when the client should not reconnect: switchboard's terminal codes and the application's.
    bool terminal() const noexcept { return (code >= 3500 && code <= 3999) || (code >= 4500 && code <= 4999); }
    /// True for the application's own codes (3000-3999).
    bool from_application() const noexcept { return code >= 3000 && code <= 3999; }
};

}  // namespace switchboard
