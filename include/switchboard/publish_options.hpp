#pragma once
// What travels with one publish to the backplane besides its topic and data (backplane::publish).
//
// An idempotency key makes a publish safe to retry: a publish of the same topic with a key the backplane has
// seen within history_options::idempotency_window is not published again; it is answered with the first one's
// position, and nothing is delivered twice. Keys are scoped per topic: the same key on two topics is two
// publishes. The retry's data is not compared: the first publish's message is the one that stands.

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard {

inline constexpr std::size_t max_idempotency_key_length = 128;

struct publish_options {
    /// Empty: no key (every publish is a new message). Else a valid key (is_valid_idempotency_key).
    std::string idempotency_key;
};

/// True when `key` is 1 to 128 characters of visible ASCII ('!' to '~': no space, no control character), so that
/// it passes unchanged through an HTTP header, a query parameter, a JSON string, a Redis key and a NATS header.
constexpr bool is_valid_idempotency_key(std::string_view key) noexcept
{
    if (key.empty() || key.size() > max_idempotency_key_length)
        return false;
    for (char c : key)
        if (c < '!' || c > '~')
            return false;
    return true;
}

}  // namespace switchboard
