// Counting deliveries: seq, loss, duplicates, reordering and latency, whatever the transport.

#include "run.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace loadgen {

// Payloads are {"seq":N,"ts":T,"pad":"xx..."}; a delivery is found by its "seq" and "ts" wherever the server
// wraps it (switchboard's envelope, an SSE data line, a poll answer of many messages, Nchan's raw body).
void run::scan(connection& c, char const* p, std::size_t n)
{
    char const* end = p + n;
    std::uint64_t const now = now_ns();
    while (p < end) {
        auto const* at = static_cast<char const*>(memmem(p, static_cast<std::size_t>(end - p), "\"seq\":", 6));
        if (!at)
            break;
        p = at + 6;
        std::uint64_t seq = 0, ts = 0;
        auto r = std::from_chars(p, end, seq);
        p = r.ptr;
        if (end - p < 6 || std::memcmp(p, ",\"ts\":", 6) != 0)
            continue;
        r = std::from_chars(p + 6, end, ts);
        p = r.ptr;
        if (seq == 0)
            continue;  // the warm-up message
        if (seq > 1'000'000'000)
            continue;
        auto const word = seq >> 6;
        if (word >= c.seen.size())
            c.seen.resize(std::max<std::size_t>(word + 1, c.seen.size() * 2), 0);
        auto const bit = std::uint64_t{1} << (seq & 63);
        if (c.seen[word] & bit) {
            ++c.duplicates;
            continue;
        }
        c.seen[word] |= bit;
        if (seq < c.last_seq)
            ++c.reordered;
        else
            c.last_seq = seq;
        ++c.received;
        ++deliveries_;
        last_delivery_ns_ = now;
        latency_.record(now > ts ? (now - ts) / 1000 : 0);
    }
    if (publishing_ && opt_.window > 0)
        pump();
}

}  // namespace loadgen
