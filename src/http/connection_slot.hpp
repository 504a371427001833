#pragma once
// A client connection counted against the limits (options.max_connections, max_connections_per_address).
// Taken when a socket is accepted and moved along with it (HTTP connection, then channel), so the count stays
// right whatever the socket becomes.

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>

namespace switchboard::detail {

struct connection_counts {
    // An address's count, and the counts it belongs to: a slot finds both through one pointer.
    struct address_count {
        std::size_t connections = 0;
        connection_counts* counts = nullptr;
    };
    std::size_t total = 0;
    std::unordered_map<std::string, address_count> by_address;

    /// Connections counted for `address`.
    std::size_t at(std::string const& address) const;
};

class connection_slot {
public:
    connection_slot() = default;
    connection_slot(connection_counts& counts, std::string address);
    connection_slot(connection_slot&& other) noexcept;
    connection_slot& operator=(connection_slot&& other) noexcept;
    ~connection_slot();

private:
    void release() noexcept;

    // The address's entry in its counts' by_address: a node's element stays where it is until erased (a rehash
    // moves no element), and a pointer is 8 bytes of every connection where the address would be 32 and more.
    // The counts are found through the entry, not a pointer of each slot: 8 bytes of every connection.
    std::pair<std::string const, connection_counts::address_count>* entry_ = nullptr;
};

}  // namespace switchboard::detail
