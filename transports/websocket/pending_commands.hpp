#pragma once
// The commands of one WebSocket that wait on an asynchronous hook (authorize, authenticate) or on the backplane
// (a publish's position, a history read over Redis), counted against the channel's bounds
// (server_options::max_pending_commands and max_pending_bytes): a client that floods commands without waiting
// for their answers gets too_many_pending instead of making the server hold its whole flood.
//
// Loop thread only.

#include <cstddef>

namespace switchboard::websocket {

struct pending_commands {
    std::size_t commands = 0;
    std::size_t bytes = 0;  // of their text

    /// Whether one more command of `size` bytes stays within `max_commands` and `max_bytes`; with none pending,
    /// any command does.
    bool admit(std::size_t size, std::size_t max_commands, std::size_t max_bytes) const noexcept
    {
        return commands == 0 || (commands < max_commands && bytes + size <= max_bytes);
    }
    bool empty() const noexcept { return commands == 0; }
};

}  // namespace switchboard::websocket
