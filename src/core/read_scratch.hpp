#pragma once
// Where a connection's input is read on a wake-up: one loop thread reads at a time and takes the bytes out before
// it returns, so one buffer per thread serves every connection (a channel's io, an HTTP/2 session, an HTTP request
// read on its socket alone), and an idle connection holds none.

#include <array>

namespace switchboard::detail {

inline std::array<char, 64 * 1024>& read_scratch()
{
    thread_local std::array<char, 64 * 1024> buffer;
    return buffer;
}

}  // namespace switchboard::detail
