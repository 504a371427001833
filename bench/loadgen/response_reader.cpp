#include "response_reader.hpp"

#include "http_head.hpp"

#include <algorithm>
#include <string>

namespace loadgen {

void response_reader::reset()
{
    head.clear();
    body.clear();
    have_head = false;
    chunked = false;
    content_length = 0;
    chunks = {};
}

std::size_t response_reader::feed(char const* p, std::size_t n, bool& done, bool& error)
{
    done = false;
    std::size_t used = 0;
    if (!have_head) {
        auto const before = head.size();
        head.append(p, n);
        auto const end = head.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
        if (end == std::string::npos) {
            if (head.size() > 64 * 1024)
                error = true;
            return n;
        }
        used = end + 4 - before;
        head.resize(end + 4);
        have_head = true;
        chunked = iequals_prefix(header_value(head, "Transfer-Encoding"), "chunked");
        auto const cl = header_value(head, "Content-Length");
        content_length = cl.empty() ? 0 : std::stoul(cl);
    }
    if (chunked) {
        // Feed byte ranges until the terminating chunk; the trailer's CRLF is skipped leniently.
        auto const* p2 = p + used;
        auto const left = n - used;
        // Feed one byte at a time past the end is wasteful; feed all and accept that the last CRLF may be
        // consumed as part of this response (responses are not pipelined by this client).
        if (!chunks.feed(p2, left, body))
            error = true;
        if (chunks.st == chunk_decoder::state::done)
            done = true;
        return n;
    }
    auto const take = std::min(content_length - body.size(), n - used);
    body.append(p + used, take);
    used += take;
    done = body.size() == content_length;
    return used;
}

}  // namespace loadgen
