#pragma once
// Decoding a chunked HTTP body as it arrives (SSE streams and poll answers may come chunked).

#include <cstddef>
#include <string>

namespace loadgen {

// Incremental decoder of a chunked body; feed() returns false on a malformed stream.
struct chunk_decoder {
    enum class state { size, data, data_crlf, done } st = state::size;
    std::size_t remaining = 0;
    std::string line;

    bool feed(char const* p, std::size_t n, std::string& out);
};

}  // namespace loadgen
