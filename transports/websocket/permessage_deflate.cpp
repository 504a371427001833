#include "websocket/permessage_deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <new>
#include <utility>

namespace switchboard::websocket {
namespace {

constexpr std::string_view whitespace = " \t";

std::string_view trim(std::string_view s)
{
    auto const first = s.find_first_not_of(whitespace);
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(whitespace) - first + 1);
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}

// A window bit count: 8 to 15, possibly as a quoted string (RFC 7692 7.1.2.1 allows both forms).
std::optional<int> window_bits(std::string_view value)
{
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    int bits = 0;
    auto const [end, ec] = std::from_chars(value.data(), value.data() + value.size(), bits);
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty() || value.front() == '0' ||
        bits < 8 || bits > 15)
        return std::nullopt;
    return bits;
}

// Whether the server can honour one offer ("permessage-deflate; param; param=value").
bool acceptable(std::string_view offer)
{
    bool seen_server_nct = false, seen_client_nct = false, seen_server_bits = false, seen_client_bits = false;
    std::size_t at = offer.find(';');
    if (!iequals(trim(offer.substr(0, at)), "permessage-deflate"))
        return false;
    while (at != std::string_view::npos) {
        offer.remove_prefix(at + 1);
        at = offer.find(';');
        auto const param = trim(offer.substr(0, at));
        auto const eq = param.find('=');
        auto const name = trim(param.substr(0, eq));
        std::optional<std::string_view> value;
        if (eq != std::string_view::npos)
            value = trim(param.substr(eq + 1));
        auto const once = [](bool& seen) { return !std::exchange(seen, true); };
        if (iequals(name, "server_no_context_takeover")) {
            if (value || !once(seen_server_nct))
                return false;
        } else if (iequals(name, "client_no_context_takeover")) {
            if (value || !once(seen_client_nct))
                return false;
        } else if (iequals(name, "server_max_window_bits")) {
            // Our compressed bytes are shared, made with the full window: a client that wants a smaller one
            // gets its offer declined (it may offer again without the parameter, as browsers do).
            if (!value || !once(seen_server_bits) || window_bits(*value) != 15)
                return false;
        } else if (iequals(name, "client_max_window_bits")) {
            // The client tells us it can limit its window: any window inflates with ours, so we need not ask.
            if (!once(seen_client_bits) || (value && !window_bits(*value)))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

// One zlib stream per thread and direction, made on first use and reset for every message: every message is
// compressed on its own (no context takeover), so nothing needs to survive between two of them.
struct deflate_stream {
    z_stream z{};
    int level = 0;
    bool ready = false;
    deflate_stream() = default;
    deflate_stream(deflate_stream const&) = delete;
    deflate_stream& operator=(deflate_stream const&) = delete;
    ~deflate_stream()
    {
        if (ready)
            deflateEnd(&z);
    }
    z_stream& with_level(int wanted)
    {
        if (ready && level != wanted) {
            deflateEnd(&z);
            ready = false;
        }
        if (!ready) {
            z = z_stream{};
            // Raw deflate (negative window bits: no zlib header), the full 32 KB window, zlib's default memory.
            if (deflateInit2(&z, wanted, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                throw std::bad_alloc();
            ready = true;
            level = wanted;
        } else {
            deflateReset(&z);
        }
        return z;
    }
};

struct inflate_stream {
    z_stream z{};
    bool ready = false;
    inflate_stream() = default;
    inflate_stream(inflate_stream const&) = delete;
    inflate_stream& operator=(inflate_stream const&) = delete;
    ~inflate_stream()
    {
        if (ready)
            inflateEnd(&z);
    }
    z_stream& fresh()
    {
        if (!ready) {
            z = z_stream{};
            if (inflateInit2(&z, -15) != Z_OK)
                throw std::bad_alloc();
            ready = true;
        } else {
            inflateReset(&z);
        }
        return z;
    }
};

constexpr std::array<unsigned char, 4> sync_tail{0x00, 0x00, 0xff, 0xff};

}  // namespace

std::optional<std::string> accept_permessage_deflate(std::string_view offers)
{
    // Offers are separated by commas; none of the parameters we accept has a value that may hold one.
    while (!offers.empty()) {
        auto const comma = offers.find(',');
        if (acceptable(offers.substr(0, comma)))
            return std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover");
        if (comma == std::string_view::npos)
            break;
        offers.remove_prefix(comma + 1);
    }
    return std::nullopt;
}

std::string deflate_message(std::string_view payload, int level)
{
    thread_local deflate_stream stream;
    auto& z = stream.with_level(level);
    std::string out;
    // deflateBound covers a finished stream; a sync flush adds at most a few bytes more.
    out.resize(deflateBound(&z, static_cast<uLong>(payload.size())) + 16);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
    z.avail_in = static_cast<uInt>(payload.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int const rc = deflate(&z, Z_SYNC_FLUSH);
    if (rc != Z_OK || z.avail_in != 0 || z.avail_out == 0)
        return {};  // cannot happen with deflateBound's room; sent uncompressed if it does
    std::size_t n = out.size() - z.avail_out;
    // The sync flush ends with an empty stored block, 00 00 ff ff, which the receiver adds back.
    if (n < sync_tail.size() ||
        !std::equal(sync_tail.begin(), sync_tail.end(), reinterpret_cast<unsigned char const*>(out.data()) + n - 4))
        return {};
    n -= sync_tail.size();
    if (n >= payload.size())
        return {};
    out.resize(n);
    return out;
}

inflate_status inflate_message(std::string_view compressed, std::size_t limit, std::string& out)
{
    thread_local inflate_stream stream;
    auto& z = stream.fresh();
    out.clear();
    std::array<char, 16 * 1024> chunk;
    // The message's bytes, then the tail the sender removed.
    std::array<std::string_view, 2> const inputs{
        compressed, std::string_view(reinterpret_cast<char const*>(sync_tail.data()), sync_tail.size())};
    for (auto const input : inputs) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        z.avail_in = static_cast<uInt>(input.size());
        do {
            z.next_out = reinterpret_cast<Bytef*>(chunk.data());
            z.avail_out = static_cast<uInt>(chunk.size());
            int const rc = inflate(&z, Z_SYNC_FLUSH);
            std::size_t const made = chunk.size() - z.avail_out;
            if (out.size() + made > limit)
                return inflate_status::too_large;
            out.append(chunk.data(), made);
            // A block with BFINAL set may end the message (RFC 7692 7.2.3.3): what follows it is no data, and
            // the RFC's own example has a byte there.
            if (rc == Z_STREAM_END)
                return inflate_status::ok;
            if (rc == Z_BUF_ERROR && z.avail_in == 0)
                break;  // all input taken, nothing more to make from it
            if (rc != Z_OK)
                return inflate_status::invalid;
        } while (z.avail_in != 0 || z.avail_out == 0);
    }
    return inflate_status::ok;
}

}  // namespace switchboard::websocket
