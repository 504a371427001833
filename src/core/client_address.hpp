#pragma once
// A client's address as the bounds per client see it. A channel's or connection's remote address is spelled
// "IP:port" with the IP as Asio prints it: "127.0.0.1:5000", and for IPv6 "::1:5000" (no brackets), so the port
// is what follows the last colon. "[::1]:5000" is read too.

#include <switchboard/identity.hpp>

#include <string>
#include <string_view>

namespace switchboard::detail {

/// The IP of `remote_address` ("IP:port", or "[IPv6]:port"), without brackets; `remote_address` itself when it
/// has no colon. An IPv6 address given without its port would lose its last group: always pass the port.
std::string_view client_ip(std::string_view remote_address) noexcept;

/// Who a client is to the bounds per client: "user:ID" when authenticated, else "ip:IP" (client_ip).
std::string client_key(identity const& who, std::string_view remote_address);

}  // namespace switchboard::detail
