#pragma once
// A socket's peer as a packed_address: what a connection holds of its client's address. Apart from the public
// header, which keeps Asio out of <switchboard/channel.hpp>.

#include <switchboard/detail/packed_address.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstdint>

namespace switchboard::detail {

/// `ip` and `port`, in their bytes (an IPv6 address with a scope: as text, see packed_address).
packed_address packed_address_of(boost::asio::ip::address const& ip, std::uint16_t port);

}  // namespace switchboard::detail
