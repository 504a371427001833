#pragma once
// One HTTP response read incrementally (long-poll answers, publish answers): the head, then a Content-Length or
// chunked body. Responses are not pipelined by this client.

#include "chunk_decoder.hpp"

#include <cstddef>
#include <string>

namespace loadgen {

// One HTTP response read incrementally: head, then a Content-Length or chunked body.
struct response_reader {
    std::string head;
    std::string body;
    bool have_head = false;
    bool chunked = false;
    std::size_t content_length = 0;
    chunk_decoder chunks;

    void reset();

    // Consumes bytes from [p, p+n); returns how many; sets done when a whole response is in.
    std::size_t feed(char const* p, std::size_t n, bool& done, bool& error);
};

}  // namespace loadgen
