// A record of the NATS backplane's stream as it is read back (stream_record.hpp): one message, or several with
// their sizes; a record whose sizes do not describe its body is refused, never split at a wrong place.

#include "backplanes/nats/nats_message.hpp"
#include "backplanes/nats/stream_record.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::nats {
namespace {

/// A stored record as a direct get answers it: switchboard's headers and the stream's sequence.
msg_ptr stored(std::string_view body, std::uint64_t offset, std::optional<std::string> sizes)
{
    // cnats' messages need the library open (a link opens it; this test has none).
    static bool const opened = nats_Open(-1) == NATS_OK;
    EXPECT_TRUE(opened);
    std::vector<header> headers{{offset_header, std::to_string(offset)},
                                {epoch_header, "e1"},
                                {expected_header, "41"},
                                {"Nats-Sequence", "42"}};
    if (sizes)
        headers.push_back({sizes_header, *sizes});
    return make_msg("switchboard.topic.t", nullptr, body, headers);
}

TEST(nats_record, several_payloads_come_back_byte_for_byte_with_their_offsets_and_sequences)
{
    std::vector<std::string_view> payloads{R"({"big":123456789012345678901234567890})", "7", R"("a,b")"};
    std::string sizes;
    auto const body = join_payloads(payloads, sizes);
    EXPECT_EQ(sizes, "38,1,5");
    auto m = stored(body, 10, sizes);
    auto r = parse_stored(m.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count(), 3u);
    EXPECT_EQ(r->last_offset(), 12u);
    auto const messages = r->messages("t");
    ASSERT_EQ(messages.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(messages[i]->data(), payloads[i]);
        EXPECT_EQ(messages[i]->offset(), 10 + i);
        EXPECT_EQ(messages[i]->epoch(), "e1");
        EXPECT_EQ(messages[i]->sequence(), message_sequence(42, i));
        EXPECT_EQ(record_of(messages[i]->sequence()), 42u);
        EXPECT_EQ(index_in_record(messages[i]->sequence()), i);
    }
}

TEST(nats_record, one_message_has_no_sizes_and_an_epoch_marker_no_message)
{
    auto one = parse_stored(stored("\"x\"", 5, std::nullopt).get());
    ASSERT_TRUE(one);
    EXPECT_EQ(one->last_offset(), 5u);
    ASSERT_EQ(one->messages("t").size(), 1u);
    EXPECT_EQ(one->messages("t")[0]->sequence(), message_sequence(42, 0));
    auto marker = parse_stored(stored("", 0, std::nullopt).get());
    ASSERT_TRUE(marker);
    EXPECT_TRUE(marker->messages("t").empty());
}

TEST(nats_record, sizes_that_do_not_describe_the_body_are_refused)
{
    std::string const body = "abcdef";
    for (std::string sizes : {"1,2", "1,2,4", "6", "3,x", "3,,3", ",3,3", "3,3,", "-1,7", "99999999999999999999,1"})
        EXPECT_FALSE(parse_stored(stored(body, 1, sizes).get())) << sizes;
    EXPECT_TRUE(parse_stored(stored(body, 1, std::string("3,3")).get()));
    EXPECT_TRUE(parse_stored(stored(body, 1, std::string("0,6")).get()));
    EXPECT_FALSE(parse_stored(stored(body, 0, std::string("3,3")).get()));  // a marker holds no message
    // More than a record holds.
    std::string many = "0";
    for (std::size_t i = 1; i <= max_record_messages; ++i)
        many += ",0";
    EXPECT_FALSE(parse_stored(stored("", 1, many).get()));
}

}  // namespace
}  // namespace switchboard::nats
