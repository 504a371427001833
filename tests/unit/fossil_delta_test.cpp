// The Fossil delta codec (src/core/fossil_delta.*) and the delta envelope built on it (message::delta_envelope).
// The JavaScript decoder in switchboard.js and the npm fossil-delta package apply the same deltas in
// tests/browser/delta.test.mjs.
#include "core/fossil_delta.hpp"

#include <switchboard/message.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>

namespace {

using switchboard::detail::apply_delta;
using switchboard::detail::make_delta;

// A ~1 KB JSON document of the kind deltas are for: a dashboard whose figures change a little each version.
std::string document(std::mt19937& rng, int version)
{
    nlohmann::ordered_json doc;
    doc["version"] = version;
    doc["title"] = "Tableau de bord — énergie ⚡";
    std::uniform_int_distribution<int> figure(0, 99999);
    for (int i = 0; i < 24; ++i)
        doc["series"].push_back({{"name", "sensor-" + std::to_string(i)}, {"value", figure(rng)}, {"unit", "kWh"}});
    return doc.dump();
}

// Changes one to three figures of `doc` (its digits only, so it stays valid JSON).
std::string next_version(std::mt19937& rng, std::string doc)
{
    std::uniform_int_distribution<std::size_t> at(0, doc.size() - 1);
    std::uniform_int_distribution<int> digit('0', '9');
    int const edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
        auto i = at(rng);
        while (i < doc.size() && (doc[i] < '1' || doc[i] > '9'))
            ++i;
        if (i < doc.size())
            doc[i] = static_cast<char>(digit(rng) == '0' ? '1' : digit(rng));
    }
    return doc;
}

bool valid_utf8(std::string_view s)
{
    try {
        (void)nlohmann::json(std::string(s)).dump();
        return true;
    } catch (nlohmann::json::exception const&) {
        return false;
    }
}

TEST(FossilDelta, TenThousandVersionsOfADocumentRoundTripAndStaySmall)
{
    std::mt19937 rng(20261204);
    auto doc = document(rng, 0);
    std::size_t delta_bytes = 0;
    for (int v = 1; v <= 10000; ++v) {
        auto next = v % 500 == 0 ? document(rng, v) : next_version(rng, doc);  // now and then a new document
        auto const delta = make_delta(doc, next);
        auto const back = apply_delta(doc, delta);
        ASSERT_TRUE(back) << "version " << v;
        ASSERT_EQ(*back, next) << "version " << v;
        ASSERT_TRUE(valid_utf8(delta)) << "version " << v;
        delta_bytes += delta.size();
        doc = std::move(next);
    }
    // A few changed figures in ~1 KB: the deltas average well under a tenth of the document.
    EXPECT_LT(delta_bytes / 10000, doc.size() / 10);
}

TEST(FossilDelta, RandomTextsRoundTripAndTheDeltaOfUtf8IsUtf8)
{
    std::mt19937 rng(7);
    // Characters of 1 to 4 bytes, so that matches end inside multi-byte sequences unless the encoder avoids it.
    std::vector<std::string> const alphabet = {"a", "b", "{", "\"", "\\", "\n", "é", "€", "中", "😀", "ß"};
    auto text = [&](std::size_t n) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i)
            s += alphabet[rng() % alphabet.size()];
        return s;
    };
    for (int round = 0; round < 2000; ++round) {
        auto const source = text(rng() % 300);
        std::string target;
        // Pieces of the source (copies) between new text (literals).
        while (target.size() < 400 && rng() % 8 != 0) {
            if (!source.empty() && rng() % 2) {
                auto const from = rng() % source.size();
                target += source.substr(from, rng() % 80);
            } else {
                target += text(rng() % 20);
            }
        }
        // Cut at a character boundary: the target is UTF-8 too.
        while (!target.empty() && !valid_utf8(target))
            target.pop_back();
        auto const delta = make_delta(source, target);
        auto const back = apply_delta(source, delta);
        ASSERT_TRUE(back);
        ASSERT_EQ(*back, target);
        ASSERT_TRUE(valid_utf8(delta));
    }
}

TEST(FossilDelta, BinaryAndEdgeInputsRoundTrip)
{
    std::mt19937 rng(3);
    std::string bytes(5000, '\0');
    for (auto& c : bytes)
        c = static_cast<char>(rng());
    auto changed = bytes;
    changed.insert(1000, "inserted");
    changed.erase(3000, 100);
    for (auto const& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"", ""}, {"", "abc"}, {"abc", ""}, {bytes, changed}, {changed, bytes}, {bytes, bytes},
             {std::string(100000, 'x'), std::string(100001, 'x')}}) {
        auto const back = apply_delta(from, make_delta(from, to));
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, to);
    }
    // The same text: one copy and the checksum.
    EXPECT_LT(make_delta(bytes, bytes).size(), 20u);
}

TEST(FossilDelta, TheFormatIsFossils)
{
    // Written by hand from the format: size 5, the first 3 bytes of the source, then "XY", and the checksum of
    // "abcXY": 'a''b''c''X' as a big-endian word plus 'Y' << 24.
    std::uint32_t const sum = (0x61u << 24 | 0x62u << 16 | 0x63u << 8 | 0x58u) + (0x59u << 24);
    std::string digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~";
    std::string checksum;
    for (auto n = sum; n != 0; n >>= 6)
        checksum.insert(checksum.begin(), digits[n & 63]);
    auto const delta = "5\n3@0,2:XY" + checksum + ";";
    auto const back = apply_delta("abcdef", delta);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, "abcXY");
    // What our encoder makes for a longer text copies the shared part.
    std::string const source = "The quick brown fox jumps over the lazy dog, again and again.";
    std::string const target = "The quick brown fox jumps over the lazy cat, again and again.";
    auto const ours = make_delta(source, target);
    EXPECT_NE(ours.find('@'), std::string::npos) << ours;
    EXPECT_EQ(*apply_delta(source, ours), target);
}

TEST(FossilDelta, MalformedDeltasAreRefused)
{
    std::string const source = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string const target = "abcdefghijklmnopqrstuvwxyz-0123456789!";
    auto const good = make_delta(source, target);
    ASSERT_TRUE(apply_delta(source, good));
    // Every strict prefix is incomplete.
    for (std::size_t n = 0; n < good.size(); ++n)
        EXPECT_FALSE(apply_delta(source, good.substr(0, n))) << n;
    // Bytes behind the checksum, a wrong checksum, a wrong size.
    EXPECT_FALSE(apply_delta(source, good + "x"));
    auto wrong_sum = good;
    wrong_sum[wrong_sum.size() - 2] = wrong_sum[wrong_sum.size() - 2] == '0' ? '1' : '0';
    EXPECT_FALSE(apply_delta(source, wrong_sum));
    EXPECT_FALSE(apply_delta(source, "1" + good));
    // Copies outside the source, literals past the delta's end, unknown operators, numbers that overflow.
    EXPECT_FALSE(apply_delta("abc", "3\n3@1,0;"));
    EXPECT_FALSE(apply_delta("abc", "3\n~~~~~~~~~~~@0,0;"));
    EXPECT_FALSE(apply_delta("abc", "3\n9:ab0;"));
    EXPECT_FALSE(apply_delta("abc", "3\n3#0,0;"));
    EXPECT_FALSE(apply_delta("abc", "3\n3@0;"));
    // A result past the size the delta names stops at that size.
    EXPECT_FALSE(apply_delta("abc", "1\n3@0,0;"));
}

TEST(DeltaEnvelope, AgainstThePredecessorOnly)
{
    std::string const before = R"({"price":100.25,"name":"a long enough name to make a delta pay","history":[1,2,3,4,5,6,7,8,9]})";
    std::string const after = R"({"price":100.5,"name":"a long enough name to make a delta pay","history":[1,2,3,4,5,6,7,8,9]})";
    switchboard::message const previous("prices.eur", {41, "e1"}, before);
    switchboard::message const m("prices.eur", {42, "e1"}, after);

    auto const& delta = m.delta_envelope(previous);
    ASSERT_NE(delta, m.envelope());
    auto const parsed = nlohmann::json::parse(*delta);
    EXPECT_EQ(parsed["type"], "message");
    EXPECT_EQ(parsed["topic"], "prices.eur");
    EXPECT_EQ(parsed["offset"], 42);
    EXPECT_EQ(parsed["encoding"], "delta");
    auto const back = apply_delta(before, parsed["data"].get<std::string>());
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, after);
    EXPECT_LT(delta->size(), m.envelope()->size());
    // Built once: every caller shares the bytes.
    EXPECT_EQ(m.delta_envelope(previous).get(), delta.get());

    // Not the predecessor (another offset, epoch or topic): the full envelope.
    switchboard::message const older("prices.eur", {40, "e1"}, before);
    switchboard::message const other_epoch("prices.eur", {41, "e2"}, before);
    switchboard::message const other_topic("prices.usd", {41, "e1"}, before);
    switchboard::message const m2("prices.eur", {42, "e1"}, after);
    EXPECT_EQ(m2.delta_envelope(older), m2.envelope());
    EXPECT_EQ(m2.delta_envelope(other_epoch), m2.envelope());
    EXPECT_EQ(m2.delta_envelope(other_topic), m2.envelope());

    // A delta that does not pay (unrelated documents, tiny payloads) and binary payloads: the full envelope.
    switchboard::message const unrelated("prices.eur", {43, "e1"}, R"({"x":1})");
    EXPECT_EQ(unrelated.delta_envelope(m), unrelated.envelope());
    switchboard::message const binary("prices.eur", {44, "e1"}, "b64:AAEC");
    EXPECT_EQ(binary.delta_envelope(unrelated), binary.envelope());
}

}  // namespace
