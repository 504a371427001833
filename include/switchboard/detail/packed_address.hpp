#pragma once
// A remote address, "IP:port" as Asio spells it ("127.0.0.1:5000", "::1:5000"), kept as the IP's bytes and the
// port, and spelled when asked for. Every channel and every HTTP connection holds one: 20 bytes where a string
// took 32, and no block of its own where a string took one past 15 characters (a public IPv4 address with its
// port, "203.0.113.195:54321", and nearly every IPv6 one). Loopback benchmarks, at "127.0.0.1:5000", never showed
// that block; clients on the internet all pay it.
//
// Any other text (the server API lets a channel be given any), and an IPv6 address with a scope (a link-local
// client's), is kept as text, in a block of its own. Aligned on 2 bytes, its last byte is free for its owner's
// flags ([[no_unique_address]]).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::detail {

class packed_address {
public:
    /// No address: spelled "".
    packed_address() noexcept = default;
    /// `text` in its bytes when spelling them gives it back exactly, else as text.
    explicit packed_address(std::string_view text);
    /// An IP's bytes (4 or 16, network order), its IPv6 scope (0: none; else kept as text) and the port.
    packed_address(unsigned char const* ip, std::size_t size, std::uint32_t scope, std::uint16_t port);
    packed_address(packed_address const& other);
    packed_address(packed_address&& other) noexcept;
    packed_address& operator=(packed_address const& other);
    packed_address& operator=(packed_address&& other) noexcept;
    ~packed_address();

    /// As it was given, or as Asio spells the IP, a colon and the port.
    std::string text() const;
    bool empty() const noexcept { return form_ == form::none; }
    /// Kept in its bytes (an IP and a port), not as text.
    bool packed() const noexcept { return form_ == form::v4 || form_ == form::v6; }

private:
    enum class form : std::uint8_t { none, v4, v6, text };

    void keep_text(std::string_view text);
    char* text_data() const noexcept;
    std::uint32_t text_size() const noexcept;
    void release() noexcept;

    // v4: the first 4 bytes; v6: all 16; text: a pointer to its characters (not terminated) and their count,
    // copied in and out (no member here is aligned past 2 bytes).
    unsigned char bytes_[16] = {};
    std::uint16_t port_ = 0;
    form form_ = form::none;
};

}  // namespace switchboard::detail
