// Alone in its file: <linux/tcp.h> has the counter and clashes with <netinet/tcp.h>, which Asio includes.
#include "support/tcp_segments.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace switchboard::test {

std::optional<std::uint32_t> data_segments_received(int socket)
{
    tcp_info info{};
    socklen_t size = sizeof info;
    if (::getsockopt(socket, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 ||
        size < offsetof(tcp_info, tcpi_data_segs_in) + sizeof info.tcpi_data_segs_in)
        return std::nullopt;
    return info.tcpi_data_segs_in;
}

}  // namespace switchboard::test
