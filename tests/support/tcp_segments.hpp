#pragma once
// How many TCP segments carrying data a socket has received (the kernel's tcpi_data_segs_in), to see from the
// client's side how many writes a server's bytes left in: on loopback every send of a few KB is one segment,
// whenever and however the client reads them. Linux only.

#include <cstdint>
#include <optional>

namespace switchboard::test {

std::optional<std::uint32_t> data_segments_received(int socket);

}  // namespace switchboard::test
