// The SSE subscriber: the event stream's lines, possibly chunked; only data lines matter.

#include "run.hpp"

#include <cstring>
#include <string>

namespace loadgen {

void run::sse_body(connection& c, char const* p, std::size_t n)
{
    std::string decoded;
    if (c.sse_chunked) {
        if (!c.sse_chunks.feed(p, n, decoded))
            return fail(c, "bad chunked encoding");
        p = decoded.data();
        n = decoded.size();
    }
    // Lines; only data lines matter. A line split across reads is kept in sse_line.
    char const* end = p + n;
    while (p < end) {
        auto const* nl = static_cast<char const*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (!nl) {
            c.sse_line.append(p, end);
            if (c.sse_line.size() > 1024 * 1024)
                return fail(c, "SSE line too long");
            return;
        }
        char const* line = p;
        std::size_t len = static_cast<std::size_t>(nl - p);
        if (!c.sse_line.empty()) {
            c.sse_line.append(p, len);
            line = c.sse_line.data();
            len = c.sse_line.size();
        }
        if (len >= 5 && std::memcmp(line, "data:", 5) == 0) {
            if (c.state == connection::phase::ready)
                scan(c, line, len);
            else if (std::string_view(line, len).find("\"type\":\"subscribed\"") != std::string_view::npos)
                mark_ready(c);
        }
        c.sse_line.clear();
        p = nl + 1;
    }
}

}  // namespace loadgen
