#include "chunk_decoder.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace loadgen {

bool chunk_decoder::feed(char const* p, std::size_t n, std::string& out)
{
    char const* end = p + n;
    while (p < end && st != state::done) {
        switch (st) {
        case state::size: {
            auto const* nl = static_cast<char const*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
            if (!nl) {
                line.append(p, end);
                if (line.size() > 64)
                    return false;
                return true;
            }
            line.append(p, nl);
            p = nl + 1;
            std::size_t size = 0;
            auto const r = std::from_chars(line.data(), line.data() + line.size(), size, 16);
            if (r.ec != std::errc{})
                return false;
            line.clear();
            if (size == 0) {
                st = state::done;
            } else {
                remaining = size;
                st = state::data;
            }
            break;
        }
        case state::data: {
            auto const take = std::min<std::size_t>(remaining, static_cast<std::size_t>(end - p));
            out.append(p, take);
            p += take;
            remaining -= take;
            if (remaining == 0) {
                st = state::data_crlf;
                remaining = 2;
            }
            break;
        }
        case state::data_crlf:
            ++p;
            if (--remaining == 0)
                st = state::size;
            break;
        case state::done: break;
        }
    }
    return true;
}

}  // namespace loadgen
