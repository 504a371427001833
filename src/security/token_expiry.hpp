#pragma once
// Where a streaming channel's token stands in its lifetime, checked on keepalive ticks (so at most a tick
// late, and with no timer per channel): a WebSocket is warned `warning` before expiry and may refresh; at
// expiry (the token's "exp" plus the configured leeway) WebSocket and SSE channels are closed with 4004.

#include <switchboard/identity.hpp>

#include <chrono>

namespace switchboard::detail {

enum class token_status { valid, expiring, expired };

inline token_status token_state(identity const& who, std::chrono::milliseconds warning)
{
    if (!who.expires_at)
        return token_status::valid;
    auto const now = std::chrono::system_clock::now();
    if (now >= *who.expires_at)
        return token_status::expired;
    if (now + warning >= *who.expires_at)
        return token_status::expiring;
    return token_status::valid;
}

}  // namespace switchboard::detail
