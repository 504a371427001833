// permessage-deflate (RFC 7692): which offers the server accepts, and compressing and inflating one message
// without context takeover, checked against zlib driven directly the way other peers' encoders work (smaller
// windows, a final block, a full flush), and against input a client could lie with.

#include "websocket/permessage_deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <string_view>

namespace {

using switchboard::websocket::accept_permessage_deflate;
using switchboard::websocket::deflate_message;
using switchboard::websocket::inflate_message;
using switchboard::websocket::inflate_status;

constexpr std::string_view accepted = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

TEST(permessage_deflate, accepts_what_browsers_and_client_libraries_offer)
{
    for (std::string_view offer : {
             "permessage-deflate; client_max_window_bits",                      // Chromium, Firefox, Node's ws
             "permessage-deflate",                                              // the bare offer
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
             "permessage-deflate; client_max_window_bits=12",                   // a client limiting itself
             "permessage-deflate; client_max_window_bits=\"10\"",               // the quoted form of 7.1.2.1
             "permessage-deflate; server_max_window_bits=15",                   // what we use anyway
             "PerMessage-Deflate ;  Client_Max_Window_Bits ",                   // case and spaces
             "x-webkit-deflate-frame, permessage-deflate",                      // an unknown extension first
         }) {
        SCOPED_TRACE(offer);
        EXPECT_EQ(accept_permessage_deflate(offer), std::string(accepted));
    }
}

TEST(permessage_deflate, declines_offers_it_cannot_honour_and_takes_the_next)
{
    for (std::string_view offer : {
             "", "deflate-frame", "permessage-deflate; server_max_window_bits=10",  // a smaller shared window
             "permessage-deflate; server_max_window_bits",                          // the value is required
             "permessage-deflate; client_max_window_bits=16", "permessage-deflate; client_max_window_bits=7",
             "permessage-deflate; client_max_window_bits=09", "permessage-deflate; client_max_window_bits=x",
             "permessage-deflate; server_no_context_takeover; server_no_context_takeover",  // repeated
             "permessage-deflate; server_no_context_takeover=1", "permessage-deflate; unknown_parameter",
             "permessage-deflatex", "permessage-deflate; ; client_max_window_bits",
         }) {
        SCOPED_TRACE(offer);
        EXPECT_FALSE(accept_permessage_deflate(offer));
    }
    // RFC 7692 5: offers come in order of preference; the first acceptable one wins.
    EXPECT_EQ(accept_permessage_deflate("permessage-deflate; server_max_window_bits=10, permessage-deflate"),
              std::string(accepted));
}

std::string inflated(std::string_view compressed, std::size_t limit = 1 << 20)
{
    std::string out;
    EXPECT_EQ(inflate_message(compressed, limit, out), inflate_status::ok);
    return out;
}

TEST(permessage_deflate, decodes_the_rfc_example)
{
    // RFC 7692 7.2.3.1: "Hello" in one compressed frame.
    EXPECT_EQ(inflated(std::string_view("\xf2\x48\xcd\xc9\xc9\x07\x00", 7)), "Hello");
    // 7.2.3.3: the same in a block with BFINAL set, and the byte the RFC shows after it.
    EXPECT_EQ(inflated(std::string_view("\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8)), "Hello");
    // An empty message (7.2.3.6): a single 0x00 byte.
    EXPECT_EQ(inflated(std::string_view("\x00", 1)), "");
}

TEST(permessage_deflate, round_trips_random_messages_at_every_level)
{
    std::mt19937 rng(7);
    for (int i = 0; i < 400; ++i) {
        // JSON-like text repeats itself and compresses; random bytes do not, and are then left uncompressed.
        std::string payload;
        std::size_t const n = std::uniform_int_distribution<std::size_t>(0, 70'000)(rng);
        bool const repetitive = i % 2 == 0;
        for (std::size_t k = 0; k < n; ++k)
            payload += repetitive ? "{\"price\":12.5,\"symbol\":\"ABC\"}"[rng() % 30] : static_cast<char>(rng());
        int const level = 1 + i % 9;
        auto const deflated = deflate_message(payload, level);
        if (deflated.empty()) {
            EXPECT_FALSE(repetitive && n > 200) << n;  // compressible text above a few bytes always shrinks
            continue;
        }
        EXPECT_LT(deflated.size(), payload.size());
        EXPECT_EQ(inflated(deflated, payload.size()), payload) << "level " << level << ", " << n << " bytes";
    }
}

// What another peer's encoder may send: its own window size, flush mode and final block.
std::string zlib_deflate(std::string_view payload, int window_bits, int flush)
{
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, payload.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
    z.avail_in = static_cast<uInt>(payload.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, flush);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    if (flush != Z_FINISH && out.size() >= 4 && out.ends_with(std::string_view("\x00\x00\xff\xff", 4)))
        out.resize(out.size() - 4);
    return out;
}

TEST(permessage_deflate, inflates_what_other_encoders_send)
{
    std::string payload;
    for (int i = 0; i < 2000; ++i)
        payload += R"({"type":"publish","topic":"prices","data":{"n":)" + std::to_string(i % 37) + "}}";
    for (int bits : {9, 12, 15}) {
        SCOPED_TRACE(bits);
        EXPECT_EQ(inflated(zlib_deflate(payload, bits, Z_SYNC_FLUSH)), payload);
        EXPECT_EQ(inflated(zlib_deflate(payload, bits, Z_FULL_FLUSH)), payload);
        EXPECT_EQ(inflated(zlib_deflate(payload, bits, Z_FINISH)), payload);  // ends with a final block
    }
}

TEST(permessage_deflate, stops_a_zip_bomb_at_the_limit)
{
    // 64 MB of zeros deflate to about 64 KB: inflating stops just past the limit, not at the end.
    std::string const zeros(64 << 20, '\0');
    auto const bomb = zlib_deflate(zeros, 15, Z_SYNC_FLUSH);
    ASSERT_LT(bomb.size(), 100'000u);
    std::string out;
    EXPECT_EQ(inflate_message(bomb, 64 * 1024, out), inflate_status::too_large);
    EXPECT_LE(out.size(), 64u * 1024);
    // Exactly at the limit is allowed.
    auto const small = zlib_deflate(std::string(1000, 'a'), 15, Z_SYNC_FLUSH);
    EXPECT_EQ(inflate_message(small, 1000, out), inflate_status::ok);
    EXPECT_EQ(out, std::string(1000, 'a'));
    EXPECT_EQ(inflate_message(small, 999, out), inflate_status::too_large);
}

TEST(permessage_deflate, refuses_invalid_streams)
{
    std::string out;
    // A block type of 3 is reserved; a stored block whose lengths disagree; a distance past the start.
    EXPECT_EQ(inflate_message(std::string_view("\xff\xff\xff", 3), 1 << 20, out), inflate_status::invalid);
    EXPECT_EQ(inflate_message(std::string_view("\x00\x05\x00\x00\x00", 5), 1 << 20, out), inflate_status::invalid);
    // Random bytes never crash it and never go past the limit.
    std::mt19937 rng(11);
    for (int i = 0; i < 2000; ++i) {
        std::string junk(rng() % 200, '\0');
        for (auto& c : junk)
            c = static_cast<char>(rng());
        if (inflate_message(junk, 4096, out) == inflate_status::ok) {
            EXPECT_LE(out.size(), 4096u);
        }
    }
    // Each message starts afresh: a failure leaves nothing behind for the next one.
    EXPECT_EQ(inflated(std::string_view("\xf2\x48\xcd\xc9\xc9\x07\x00", 7)), "Hello");
}

}  // namespace
