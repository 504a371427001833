// The Redis backplane's wire codec on hand-made replies: entries, the scripts' answers, names. No Redis.

#include "backplanes/redis/redis_codec.hpp"
#include "support/offsets.hpp"
#include "unit/redis_reply.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using redis::parse_entry;
using redis::redis_names;

// Entries are stamped with Redis' clock; the tests' "now" is this.
constexpr std::int64_t now_ms = 1'700'000'000'000;

std::string entry_text(std::uint64_t offset, std::string const& epoch = "E", std::string const& data = "null",
                       std::int64_t at_ms = now_ms)
{
    return std::to_string(offset) + " " + epoch + " " + std::to_string(at_ms) + " " + data;
}

// history.lua's answer: {offset, epoch, now ms, entries oldest first}.
fake_reply history_answer(std::uint64_t offset, std::string const& epoch, std::vector<std::string> const& entries)
{
    std::vector<fake_reply> list;
    for (auto const& e : entries)
        list.push_back(fake_reply::string(e));
    std::vector<fake_reply> top;
    top.push_back(fake_reply::integer(static_cast<long long>(offset)));
    top.push_back(fake_reply::string(epoch));
    top.push_back(fake_reply::integer(now_ms));
    top.push_back(fake_reply::array(std::move(list)));
    return fake_reply::array(std::move(top));
}

history_result read(std::optional<position> since, fake_reply const& answer,
                    std::size_t max_bytes = backplane::whole_history, std::chrono::seconds max_age = 300s)
{
    auto r = redis::history_reply("t", since, max_age, max_bytes, answer.get());
    EXPECT_TRUE(r.has_value()) << "a well-formed answer";
    return r.value_or(history_result{});
}

TEST(redis_codec, a_pattern_glob_covers_its_topics_with_the_prefix_and_literals_escaped)
{
    redis_names names{"sb:"};
    EXPECT_EQ(names.glob("a.*"), "sb:a.*");
    EXPECT_EQ(names.glob("a.>"), "sb:a.*") << "one glob for both: the node filters";
    EXPECT_EQ(names.glob("*.b.*.d"), "sb:*.b.*.d");
    EXPECT_EQ(names.glob(">"), "sb:*");
    redis_names odd{"x[1]*?\\:"};
    EXPECT_EQ(odd.glob("a.*"), "x\\[1\\]\\*\\?\\\\:a.*");
}

TEST(redis_codec, an_entry_is_offset_epoch_time_and_the_rest_as_data)
{
    auto const e = parse_entry("12 aB3 1700000000123 {\"a\": \"x y\"}\n[1]");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->offset, 12u);
    EXPECT_EQ(e->epoch, "aB3");
    EXPECT_EQ(e->at_ms, 1'700'000'000'123);
    EXPECT_EQ(e->data, "{\"a\": \"x y\"}\n[1]");  // spaces and line feeds are the data's
}

TEST(redis_codec, a_malformed_entry_is_refused)
{
    for (std::string_view bad : {"", "1", "1 e", "1 e 2", "1 e 2 ", "x e 2 null", "1 e y null", "1x e 2 null",
                                 "-1 e 2 null", "1 e 2x null", "18446744073709551616 e 2 null"})
        EXPECT_FALSE(parse_entry(bad)) << bad;
}

TEST(redis_codec, a_publish_answer_is_the_position)
{
    std::vector<fake_reply> elements;
    elements.push_back(fake_reply::integer(7));
    elements.push_back(fake_reply::string("ep"));
    auto const answer = fake_reply::array(std::move(elements));
    EXPECT_EQ(redis::publish_reply(answer.get()), (position{7, "ep"}));
}

TEST(redis_codec, anything_else_is_no_publish)
{
    EXPECT_FALSE(redis::publish_reply(nullptr));  // the connection ended
    EXPECT_FALSE(redis::publish_reply(fake_reply::error("ERR boom").get()));
    EXPECT_FALSE(redis::publish_reply(fake_reply::integer(1).get()));
    std::vector<fake_reply> one;
    one.push_back(fake_reply::integer(1));
    EXPECT_FALSE(redis::publish_reply(fake_reply::array(std::move(one)).get()));
}

TEST(redis_codec, a_malformed_history_answer_is_refused)
{
    EXPECT_FALSE(redis::history_reply("t", position{0, "E"}, 300s, backplane::whole_history, nullptr));
    EXPECT_FALSE(redis::history_reply("t", position{0, "E"}, 300s, backplane::whole_history,
                                      fake_reply::error("NOSCRIPT").get()));
    std::vector<fake_reply> three;
    for (int i = 0; i < 3; ++i)
        three.push_back(fake_reply::integer(1));
    EXPECT_FALSE(redis::history_reply("t", std::nullopt, 300s, backplane::whole_history,
                                      fake_reply::array(std::move(three)).get()));
    std::vector<fake_reply> no_list;
    for (int i = 0; i < 4; ++i)
        no_list.push_back(fake_reply::integer(1));
    EXPECT_FALSE(redis::history_reply("t", std::nullopt, 300s, backplane::whole_history,
                                      fake_reply::array(std::move(no_list)).get()));
}

TEST(redis_codec, history_without_a_position_is_the_position_only)
{
    auto const r = read(std::nullopt, history_answer(3, "E", {entry_text(3)}));
    EXPECT_TRUE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, (position{3, "E"}));
}

TEST(redis_codec, history_after_a_position_is_the_later_messages_byte_for_byte)
{
    auto const r =
        read(position{1, "E"}, history_answer(3, "E", {entry_text(2, "E", "[1, 2]"), entry_text(3, "E", "\"a b\"")}));
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(r.latest, (position{3, "E"}));
    ASSERT_EQ(offsets_of(r.messages), (offsets{2, 3}));
    EXPECT_EQ(r.messages[0]->data(), "[1, 2]");
    EXPECT_EQ(r.messages[1]->data(), "\"a b\"");
    EXPECT_EQ(r.messages[1]->topic(), "t");
    EXPECT_EQ(r.messages[1]->where(), (position{3, "E"}));
}

TEST(redis_codec, an_empty_epoch_from_0_reads_whatever_epoch_is_current)
{
    auto const r = read(position{0, ""}, history_answer(1, "E", {entry_text(1)}));
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{1}));
}

TEST(redis_codec, another_epoch_or_a_position_past_the_latest_is_not_recovered)
{
    for (auto const& since : {position{1, "other"}, position{5, "E"}, position{1, ""}}) {
        auto const r = read(since, history_answer(3, "E", {entry_text(2), entry_text(3)}));
        EXPECT_FALSE(r.recovered) << since.offset << " " << since.epoch;
        EXPECT_TRUE(r.messages.empty());
        EXPECT_EQ(r.latest, (position{3, "E"}));
    }
}

TEST(redis_codec, trimmed_history_is_not_recovered_but_gives_what_remains)
{
    auto const r = read(position{1, "E"}, history_answer(4, "E", {entry_text(3), entry_text(4)}));
    EXPECT_FALSE(r.recovered);  // 2 is gone
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4}));
}

TEST(redis_codec, entries_of_another_epoch_or_too_old_or_malformed_are_not_history)
{
    // A list kept from an epoch before the position was lost, an entry past max_age, a broken one: skipped, and
    // what they leave missing is reported.
    auto const r = read(position{0, "E"},
                        history_answer(4, "E", {entry_text(1, "old"), entry_text(2, "E", "null", now_ms - 301'000),
                                                "garbage", entry_text(3), entry_text(4)}),
                        backplane::whole_history, 300s);
    EXPECT_FALSE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4}));
}

TEST(redis_codec, history_stops_at_a_hole_rather_than_skip_it)
{
    auto const r = read(position{1, "E"}, history_answer(5, "E", {entry_text(2), entry_text(3), entry_text(5)}));
    EXPECT_TRUE(r.recovered);  // what it gives follows the position; the reader asks again after 3
    EXPECT_EQ(offsets_of(r.messages), (offsets{2, 3}));
}

TEST(redis_codec, entries_past_the_latest_offset_are_not_history)
{
    auto const r = read(position{1, "E"}, history_answer(2, "E", {entry_text(2), entry_text(3)}));
    EXPECT_EQ(offsets_of(r.messages), (offsets{2}));
}

TEST(redis_codec, a_page_ends_before_its_envelopes_exceed_max_bytes)
{
    // The script cut its page by entry bytes: it may send more than a page of envelopes.
    std::vector<std::string> entries;
    for (std::uint64_t o = 1; o <= 4; ++o)
        entries.push_back(entry_text(o, "E", "\"" + std::string(100, 'x') + "\""));
    auto const answer = history_answer(4, "E", entries);
    auto const envelope = read(position{0, "E"}, answer).messages.front()->envelope()->size();
    ASSERT_GT(envelope, entries.front().size());  // why the script's bound is not enough

    auto r = read(position{0, "E"}, answer, 2 * envelope + envelope / 2);
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{1, 2}));
    EXPECT_EQ(r.latest, (position{4, "E"}));  // more remain
    r = read(position{0, "E"}, answer, 2 * envelope);  // exactly two
    EXPECT_EQ(offsets_of(r.messages), (offsets{1, 2}));
    r = read(position{0, "E"}, answer, 1);  // the first one always
    EXPECT_EQ(offsets_of(r.messages), (offsets{1}));
}

TEST(redis_codec, a_live_message_is_an_entry)
{
    auto const m = redis::live_message("room", entry_text(9, "E", "{\"x\":1}"));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->topic(), "room");
    EXPECT_EQ(m->where(), (position{9, "E"}));
    EXPECT_EQ(m->data(), "{\"x\":1}");
    EXPECT_FALSE(redis::live_message("room", "9 E"));
}

TEST(redis_codec, an_entry_carries_its_sequence_and_the_topics_previous_one)
{
    auto const e = parse_entry("12 aB3 1700000000123 40 37 {\"a\": \"x y\"}");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->offset, 12u);
    EXPECT_EQ(e->sequence, 40u);
    EXPECT_EQ(e->previous, 37u);
    EXPECT_EQ(e->data, "{\"a\": \"x y\"}");
    // An entry written before sequences: the rest is its data, sequence 0 (a number then a space is no JSON).
    for (std::string_view old : {"12 aB3 1700000000123 40", "12 aB3 1700000000123 \"4 0 x\"", "12 aB3 1 [4, 0, 1]"}) {
        auto const o = parse_entry(old);
        ASSERT_TRUE(o) << old;
        EXPECT_EQ(o->sequence, 0u);
        EXPECT_EQ(o->data, old.substr(old.find(' ', old.find(' ', old.find(' ') + 1) + 1) + 1)) << old;
    }
    auto const m = redis::live_message("room", "9 E 1700000000123 40 0 null");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sequence(), 40u);
    EXPECT_EQ(m->data(), "null");
    auto const r = read(position{8, "E"}, history_answer(9, "E", {"9 E 1700000000123 40 0 null"}));
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0]->sequence(), 40u);
}

// pattern_history.lua's answer: {sequence, epoch, past, status, lost, {topic, entry, ...}, more}.
fake_reply pattern_answer(std::uint64_t sequence, std::uint64_t past, int status, std::vector<std::string> const& lost,
                          std::vector<std::string> const& page, bool more = false)
{
    std::vector<fake_reply> lost_list, page_list, top;
    for (auto const& l : lost)
        lost_list.push_back(fake_reply::string(l));
    for (auto const& p : page)
        page_list.push_back(fake_reply::string(p));
    top.push_back(fake_reply::integer(static_cast<long long>(sequence)));
    top.push_back(fake_reply::string("S"));
    top.push_back(fake_reply::integer(static_cast<long long>(past)));
    top.push_back(fake_reply::integer(status));
    top.push_back(fake_reply::array(std::move(lost_list)));
    top.push_back(fake_reply::array(std::move(page_list)));
    top.push_back(fake_reply::integer(more ? 1 : 0));
    return fake_reply::array(std::move(top));
}

TEST(redis_codec, a_pattern_history_answer_is_its_page_in_sequence_order_with_what_is_lost)
{
    auto const entry = [](std::uint64_t offset, std::uint64_t sequence, std::uint64_t previous) {
        return std::to_string(offset) + " E " + std::to_string(now_ms) + " " + std::to_string(sequence) + " " +
               std::to_string(previous) + " " + std::to_string(sequence);
    };
    auto const answer = pattern_answer(9, 0, 0, {"a.z"}, {"a.x", entry(3, 5, 4), "a.y", entry(1, 6, 0), "a.x", entry(4, 8, 5)});
    auto r = redis::pattern_history_reply(position{4, "S"}, backplane::whole_history, answer.get());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->too_many_topics);
    EXPECT_EQ(r->result.latest, (position{9, "S"}));
    EXPECT_FALSE(r->result.recovered);
    EXPECT_EQ(r->result.lost, (std::vector<std::string>{"a.z"}));
    EXPECT_FALSE(r->result.more);
    ASSERT_EQ(r->result.messages.size(), 3u);
    EXPECT_EQ(r->result.messages[1]->topic(), "a.y");
    EXPECT_EQ(r->result.messages[1]->where(), (position{1, "E"}));
    EXPECT_EQ(r->result.messages[2]->sequence(), 8u);
    EXPECT_EQ(r->result.messages[2]->data(), "8");

    // The node cuts the page by envelopes: the script over-sends a little.
    auto const cut = redis::pattern_history_reply(position{4, "S"}, r->result.messages[0]->envelope()->size() + 1,
                                                  answer.get());
    ASSERT_TRUE(cut);
    EXPECT_EQ(cut->result.messages.size(), 1u);
    EXPECT_TRUE(cut->result.more);

    // Nothing lost, nothing let go after `since`: recovered. The index let go of a topic after it: not.
    auto const whole = pattern_answer(9, 4, 0, {}, {"a.x", entry(3, 5, 4)});
    EXPECT_TRUE(redis::pattern_history_reply(position{4, "S"}, backplane::whole_history, whole.get())->result.recovered);
    EXPECT_FALSE(redis::pattern_history_reply(position{3, "S"}, backplane::whole_history, whole.get())->result.recovered);

    // Too many topics; another epoch; the sequence only.
    auto const too_many = pattern_answer(9, 0, 1, {}, {});
    EXPECT_TRUE(redis::pattern_history_reply(position{4, "S"}, 100, too_many.get())->too_many_topics);
    auto const other = redis::pattern_history_reply(position{4, "X"}, 100, pattern_answer(9, 0, 2, {}, {}).get());
    ASSERT_TRUE(other);
    EXPECT_FALSE(other->result.recovered);
    auto const now = redis::pattern_history_reply(std::nullopt, 100, whole.get());
    ASSERT_TRUE(now);
    EXPECT_TRUE(now->result.recovered);
    EXPECT_TRUE(now->result.messages.empty());
    EXPECT_EQ(now->result.latest, (position{9, "S"}));
}

TEST(redis_codec, a_malformed_pattern_history_answer_is_refused)
{
    EXPECT_FALSE(redis::pattern_history_reply(position{0, "S"}, 100, nullptr));
    EXPECT_FALSE(redis::pattern_history_reply(position{0, "S"}, 100, fake_reply::error("NOSCRIPT").get()));
    // An entry not after `since`, out of order, or not an entry: the answer is not trusted.
    auto const at = std::to_string(now_ms);
    for (auto const& page : {std::vector<std::string>{"a.x", "3 E " + at + " 4 0 null"},
                             std::vector<std::string>{"a.x", "3 E " + at + " 6 0 null", "a.y", "1 E " + at + " 5 0 null"},
                             std::vector<std::string>{"a.x", "garbage"}, std::vector<std::string>{"a.x"}})
        EXPECT_FALSE(redis::pattern_history_reply(position{4, "S"}, backplane::whole_history,
                                                  pattern_answer(9, 0, 0, {}, page).get()));
}

TEST(redis_codec, names_put_the_topic_in_a_hash_tag_and_the_prefix_first)
{
    redis::redis_names const names{"sb:"};
    EXPECT_EQ(names.key("a.b", "position"), "sb:{a.b}.position");
    EXPECT_EQ(names.channel("a.b"), "sb:a.b");
    EXPECT_EQ(names.topic_of("sb:a.b"), "a.b");
    EXPECT_FALSE(names.topic_of("other:a.b"));
    EXPECT_EQ(names.shared_key("sequence"), "sb:sequence");  // never a topic's key: those hold a '{'
}

}  // namespace
}  // namespace switchboard::test
