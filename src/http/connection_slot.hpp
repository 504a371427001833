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
    std::size_t total = 0;
    std::unordered_map<std::string, std::size_t> by_address;

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

    connection_counts* counts_ = nullptr;
    // The address's count in counts_->by_address: a node's element stays where it is until erased (a rehash
    // moves no element), and a pointer is 8 bytes of every connection where the address would be 32 and more.
    std::pair<std::string const, std::size_t>* entry_ = nullptr;
};

}  // namespace switchboard::detail
