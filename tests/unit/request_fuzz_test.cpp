// What SSE and long polling read from a request before any channel exists: parse_target (path and
// percent-decoded query) and parse_stream_request (topics, plus a cursor from ?since=, ?cursor= or the
// Last-Event-ID header). A case for each rule, then 100,000 generated targets for each, and 100,000
// Last-Event-ID values: whatever arrives, nothing throws, and every answer is either a well-formed request or
// one of the documented errors with a message, for the reason the pieces (parse_target, decode_cursor,
// is_valid_topic, each tested on its own) give.

#include "http/query.hpp"
#include "http/stream_request.hpp"

#include "support/build_speed.hpp"
#include "support/random_input.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>
#include <switchboard/server_options.hpp>
#include <switchboard/topic.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using switchboard::cursor;
using switchboard::error;
using switchboard::detail::parse_target;
using switchboard::detail::query;
using params = std::vector<std::pair<std::string, std::string>>;
using switchboard::test::epoch_chars;
using switchboard::test::random_input;
using switchboard::test::topic_chars;

std::string shown(std::string_view text)
{
    return ::testing::PrintToString(std::string(text.substr(0, 300))) + (text.size() > 300 ? "..." : "");
}

std::string_view name(boost::system::error_code const& ec)
{
    return ec ? switchboard::error_name(ec) : std::string_view("success");
}

// Every code docs/protocol.md gives for a bad SSE or poll request target.
bool is_stream_request_error(boost::system::error_code const& ec)
{
    static std::set<std::string_view> const names = {"bad_request", "missing_field", "too_many_topics",
                                                     "invalid_topic", "invalid_cursor"};
    return ec.category() == switchboard::error_category() && names.contains(switchboard::error_name(ec));
}

std::string topics_target(std::size_t n, std::string_view path = "/sse")
{
    std::string out = std::string(path) + "?";
    for (std::size_t i = 0; i < n; ++i)
        out += (i ? "&topic=t" : "topic=t") + std::to_string(i);
    return out;
}

void expect_well_formed(cursor const& c, std::size_t max_entries)
{
    EXPECT_LE(c.size(), max_entries);
    std::set<std::string> seen;
    for (auto const& e : c) {
        EXPECT_TRUE(switchboard::is_valid_topic(e.topic)) << e.topic;
        EXPECT_LE(e.where.epoch.size(), switchboard::max_epoch_length);
        EXPECT_TRUE(std::all_of(e.where.epoch.begin(), e.where.epoch.end(),
                                [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; }))
            << e.where.epoch;
        EXPECT_TRUE(seen.insert(e.topic).second) << "duplicate " << e.topic;
    }
}

// ---- parse_stream_request, with the server's options -------------------------------------------------------

struct stream_answer {
    boost::system::error_code ec;
    switchboard::detail::stream_request request;
    std::string message;
};

// Named for the function under test, so the tests read stream_request.takes_...
class stream_request : public ::testing::Test {
protected:
    /// Options that allow `max_subscriptions`; made once per limit.
    switchboard::server_options const& options(std::size_t max_subscriptions)
    {
        auto [it, made] = options_.try_emplace(max_subscriptions);
        if (made)
            it->second.max_subscriptions = max_subscriptions;
        return it->second;
    }

    /// SSE's reading (?since= and Last-Event-ID) of `target` with an optional Last-Event-ID header.
    stream_answer sse(std::string_view target, std::optional<std::string> last_event_id = {},
                      std::size_t max_subscriptions = 8)
    {
        return read(target, last_event_id, max_subscriptions, "since", true);
    }

    /// Long polling's reading (?cursor=, no header).
    stream_answer poll(std::string_view target, std::optional<std::string> last_event_id = {},
                       std::size_t max_subscriptions = 8)
    {
        return read(target, last_event_id, max_subscriptions, "cursor", false);
    }

    stream_answer read(std::string_view target, std::optional<std::string> const& last_event_id,
                       std::size_t max_subscriptions, char const* cursor_param, bool use_last_event_id)
    {
        switchboard::http_request req{boost::beast::http::verb::get, target, 11};
        if (last_event_id)
            req.set("Last-Event-ID", *last_event_id);
        stream_answer out;
        out.ec = switchboard::detail::parse_stream_request(req, options(max_subscriptions), cursor_param,
                                                           use_last_event_id, out.request, out.message);
        return out;
    }

    void expect_refused(stream_answer const& a, std::string_view code)
    {
        EXPECT_EQ(name(a.ec), code);
        EXPECT_FALSE(a.message.empty());
    }

private:
    std::map<std::size_t, switchboard::server_options> options_;
};

TEST_F(stream_request, reads_topics_sorted_and_without_duplicates)
{
    auto const a = sse("/sse?topic=news&topic=chat.room&topic=news&topic=a%2Fb&topic=A");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_EQ(a.request.topics, (std::vector<std::string>{"A", "a/b", "chat.room", "news"}));
    EXPECT_TRUE(a.request.since.empty());
}

TEST_F(stream_request, reads_the_cursor_each_transport_names)
{
    auto a = sse("/sse?topic=a&topic=b&since=5.e1.a");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_EQ(a.request.since, (cursor{{"a", {5, "e1"}}}));
    EXPECT_EQ(a.request.since_for("a"), (switchboard::position{5, "e1"}));
    EXPECT_FALSE(a.request.since_for("b"));

    a = poll("/poll?topic=a&cursor=7.x.a,8.y.b&since=garbage");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_EQ(a.request.since, (cursor{{"a", {7, "x"}}, {"b", {8, "y"}}}));

    // Each transport reads only its own parameter.
    a = sse("/sse?topic=a&cursor=garbage");
    EXPECT_FALSE(a.ec) << a.message;
    EXPECT_TRUE(a.request.since.empty());
}

TEST_F(stream_request, a_cursor_may_name_topics_not_requested)
{
    auto const a = sse("/sse?topic=a&since=1.e.other");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_EQ(a.request.since, (cursor{{"other", {1, "e"}}}));
}

TEST_F(stream_request, percent_decodes_the_cursor)
{
    auto const a = sse("/sse?topic=a&since=1.e.a%2Fb%2C2.f.c");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_EQ(a.request.since, (cursor{{"a/b", {1, "e"}}, {"c", {2, "f"}}}));
}

TEST_F(stream_request, last_event_id_wins_over_since_for_sse_only)
{
    auto a = sse("/sse?topic=a&since=1.e.a", "2.f.a");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_EQ(a.request.since, (cursor{{"a", {2, "f"}}}));

    // Even when it is empty (EventSource sends the last id it saw, which may be none): the stream starts now.
    a = sse("/sse?topic=a&since=1.e.a", "");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_TRUE(a.request.since.empty());

    expect_refused(sse("/sse?topic=a&since=1.e.a", "garbage"), "invalid_cursor");

    a = poll("/poll?topic=a&cursor=1.e.a", "garbage");
    ASSERT_FALSE(a.ec) << a.message;
    EXPECT_EQ(a.request.since, (cursor{{"a", {1, "e"}}}));
}

TEST_F(stream_request, requires_a_topic)
{
    for (std::string_view target : {"/sse", "/sse?", "/sse?&&", "/sse?topics=a", "/sse?Topic=a", "/sse?since=1.e.a",
                                    "/sse?#topic=a", "/sse#?topic=a"}) {
        SCOPED_TRACE(target);
        expect_refused(sse(target), "missing_field");
    }
}

TEST_F(stream_request, checks_every_topic_name)
{
    for (std::string_view target :
         {"/sse?topic=", "/sse?topic", "/sse?top%69c", "/sse?topic=a&topic=", "/sse?topic=a+b", "/sse?topic=a%20b", "/sse?topic=a%2Cb",
          "/sse?topic=caf%C3%A9", "/sse?topic=a%00", "/sse?topic=a%0Ab", "/sse?topic=ok&topic=bad*one",
          "/sse?topic=a%23b"}) {
        SCOPED_TRACE(target);
        expect_refused(sse(target), "invalid_topic");
    }
    expect_refused(sse("/sse?topic=" + std::string(129, 'a')), "invalid_topic");
    EXPECT_FALSE(sse("/sse?topic=" + std::string(128, 'a')).ec);
    EXPECT_FALSE(sse("/sse?topic=azAZ09_.:@/-").ec);
    EXPECT_FALSE(sse("/sse?topic=%61%7A%2f%3A%40").ec);
}

TEST_F(stream_request, refuses_more_topics_than_max_subscriptions)
{
    EXPECT_FALSE(sse(topics_target(8), {}, 8).ec);
    expect_refused(sse(topics_target(9), {}, 8), "too_many_topics");
    expect_refused(sse("/sse?topic=a&topic=b", {}, 1), "too_many_topics");
    // Counted as sent: a topic named twice counts twice.
    expect_refused(sse("/sse?topic=a&topic=a", {}, 1), "too_many_topics");
}

TEST_F(stream_request, refuses_a_cursor_that_cannot_be_read)
{
    for (std::string_view target : {"/sse?topic=a&since=x", "/sse?topic=a&since=1.e", "/sse?topic=a&since=1.e.a,",
                                    "/sse?topic=a&since=1.e.a,1.f.a", "/sse?topic=a&since=-1.e.a",
                                    "/sse?topic=a&since=1.e-1.a", "/sse?topic=a&since=1.e.a%2C", "/sse?topic=a&since=1.e.a+b"}) {
        SCOPED_TRACE(target);
        expect_refused(sse(target), "invalid_cursor");
    }
    // No more entries than topics one channel may hold.
    EXPECT_FALSE(sse("/sse?topic=a&since=1.e.a,2.e.b", {}, 2).ec);
    expect_refused(sse("/sse?topic=a&since=1.e.a,2.e.b,3.e.c", {}, 2), "invalid_cursor");
    expect_refused(sse("/sse?topic=a", "1.e.a,2.e.b,3.e.c", 2), "invalid_cursor");
    expect_refused(sse("/sse?topic=a", std::string(10'000, ',')), "invalid_cursor");
}

TEST_F(stream_request, refuses_a_malformed_target)
{
    for (std::string_view target : {"/sse?topic=a%", "/sse?topic=a%4", "/sse?topic=%zz", "/sse?%G0=1&topic=a",
                                    "/sse?topic=a&since=%"}) {
        SCOPED_TRACE(target);
        expect_refused(sse(target), "bad_request");
    }
}

TEST_F(stream_request, checks_the_target_then_topics_then_the_cursor)
{
    expect_refused(sse("/sse?topic=bad*&since=%zz"), "bad_request");
    expect_refused(sse("/sse?since=garbage"), "missing_field");
    expect_refused(sse("/sse?topic=a&topic=b&topic=bad*", {}, 2), "too_many_topics");
    expect_refused(sse("/sse?topic=bad*&since=garbage"), "invalid_topic");
}

// As many topics as max_subscriptions allows, with room for the cursor; more is too_many_topics (until the
// parameter cap of max_subscriptions + 16, past which the request is malformed).
TEST_F(stream_request, takes_as_many_topics_as_max_subscriptions_allows)
{
    auto a = sse(topics_target(100), {}, 128);
    EXPECT_FALSE(a.ec) << name(a.ec) << ": " << a.message;
    a = sse(topics_target(64) + "&since=1.e.t0", {}, 128);
    EXPECT_FALSE(a.ec) << name(a.ec) << ": " << a.message;
    a = poll(topics_target(128, "/poll"), {}, 128);
    EXPECT_FALSE(a.ec) << name(a.ec) << ": " << a.message;
    std::string other_params = "&since=1.e.t0";
    for (int i = 0; i < 15; ++i)
        other_params += "&x=" + std::to_string(i);
    a = sse(topics_target(128) + other_params, {}, 128);  // 144 parameters: the cap
    EXPECT_FALSE(a.ec) << name(a.ec) << ": " << a.message;
    expect_refused(sse(topics_target(128) + other_params + "&x=16", {}, 128), "bad_request");
    expect_refused(sse(topics_target(129), {}, 128), "too_many_topics");
    expect_refused(sse(topics_target(144), {}, 128), "too_many_topics");
    expect_refused(sse(topics_target(145), {}, 128), "bad_request");
    expect_refused(sse(topics_target(24), {}, 8), "too_many_topics");
    expect_refused(sse(topics_target(25), {}, 8), "bad_request");
}

// A request of 40,000 topics (a raised limit) with a cursor naming each of them, in the opposite order: read
// and looked up in n log n. A search per topic took seconds (two of them: the cursor's duplicate check and
// the lookup of each topic's position), during which the server's loop stood still.
TEST_F(stream_request, reads_and_looks_up_a_cursor_of_40000_topics_at_once)
{
    constexpr std::size_t n = 40'000;
    std::string text;
    for (std::size_t i = n; i-- > 0;)
        switchboard::append_cursor_entry(text, "t" + std::to_string(i), {i + 1, "e"});
    auto const started = switchboard::test::thread_cpu_time();
    auto const a = poll(topics_target(n, "/poll") + "&cursor=" + text, {}, n);
    ASSERT_FALSE(a.ec) << a.message;
    std::size_t found = 0;
    for (auto const& topic : a.request.topics)
        if (auto const since = a.request.since_for(topic))
            found += since->offset == std::stoull(topic.substr(1)) + 1;
    auto const cpu = switchboard::test::thread_cpu_time() - started;
    EXPECT_EQ(found, n);
    // ~0.2 s optimized; the searches it replaces took 4 s.
    EXPECT_LT(cpu, std::chrono::seconds(2) * switchboard::test::build_slowdown);

    // The same cursor with one topic twice is refused, wherever the two are.
    EXPECT_EQ(name(poll(topics_target(n, "/poll") + "&cursor=" + text + ",1.e.t0", {}, n).ec), "invalid_cursor");
}

// ---- generating targets and cursors -----------------------------------------------------------------------

class request_generator : public random_input {
public:
    explicit request_generator(std::uint32_t seed) : random_input(seed) {}

    std::string target()
    {
        switch (pick(10)) {
        case 0: return random_bytes(pick(80));
        case 1: return random_from("/?&=%#+topicsncur.,0123456789abcdefABCDEF:@_- ", pick(80));
        case 2:
        case 3: return mutate(structured_target());
        default: return structured_target();
        }
    }

    std::optional<std::string> last_event_id()
    {
        switch (pick(8)) {
        case 0:
        case 1:
        case 2: return std::nullopt;
        case 3: return random_bytes(pick(60));
        case 4: return mutate(valid_cursor());
        case 5: return std::string();
        default: return valid_cursor();
        }
    }

    std::string cursor_text()
    {
        switch (pick(6)) {
        case 0: return random_from(".,0123456789abcXYZ/:-_@ +%", pick(40));
        case 1:
        case 2: return mutate(valid_cursor());
        default: return valid_cursor();
        }
    }

private:
    // A small pool, so that topics repeat within a request and between the topics and the cursor.
    std::string topic()
    {
        static constexpr std::string_view pool[] = {"news", "chat.room", "a/b", "user@example.com", "t:1", "x-y_z", "A",
                                                    "a", "0"};
        switch (pick(6)) {
        case 0: return random_from(topic_chars, 1 + (pick(8) == 0 ? pick(128) : pick(10)));
        case 1: return std::string(128 - pick(2), "xyz"[pick(3)]);
        default: return std::string(pool[pick(std::size(pool))]);
        }
    }

    std::string bad_topic()
    {
        static constexpr std::string_view bad[] = {" ", "+", ",", "#", "*", "\\", "\"", "\n", "\x7F", "\x01", "\xC3\xA9",
                                                   "\xFF", "%", "&", "="};
        switch (pick(4)) {
        case 0: return "";
        case 1: return random_from(topic_chars, 129 + pick(3));
        default: {
            std::string t = topic();
            t.insert(pick(t.size() + 1), bad[pick(std::size(bad))]);
            return t;
        }
        }
    }

    std::string valid_cursor()
    {
        std::string out;
        std::size_t const entries = pick(4) == 0 ? pick(12) : 1 + pick(3);
        for (std::size_t i = 0; i < entries; ++i) {
            std::uint64_t const offset =
                pick(4) == 0 ? std::numeric_limits<std::uint64_t>::max() - pick(2) : pick(100'000);
            switchboard::append_cursor_entry(out, topic(), {offset, random_from(epoch_chars, pick(pick(8) == 0 ? 33 : 10))});
        }
        return out;
    }

    // Percent-encodes what must be (mostly), and some of the rest.
    std::string encoded(std::string_view s)
    {
        std::size_t const eagerness = pick(4);  // 0: only what must be; 3: everything
        char const* const hex = pick(2) ? "0123456789abcdef" : "0123456789ABCDEF";
        std::string out;
        out.reserve(3 * s.size());
        for (char c : s) {
            auto const b = static_cast<unsigned char>(c);
            bool const must = c == '%' || c == '&' || c == '#' || c == '=' || c == '+' || c == '?' || b <= 0x20 || b >= 0x7F;
            if (must ? pick(8) != 0 : eagerness == 3 || (eagerness > 0 && pick(4) < eagerness)) {
                out += '%';
                out += hex[b >> 4];
                out += hex[b & 15];
            } else {
                out += c;
            }
        }
        return out;
    }

    std::string bad_escape()
    {
        static constexpr std::string_view escapes[] = {"%", "%4", "%zz", "%G0", "%0G", "%%", "%-1", "% 1", "%4%41"};
        return std::string(escapes[pick(std::size(escapes))]);
    }

    std::string param()
    {
        switch (pick(12)) {
        case 0:
        case 1:
        case 2:
        case 3: return "topic=" + encoded(topic());
        case 4: return "topic=" + encoded(bad_topic());
        case 5: return std::string(pick(2) ? "since=" : "cursor=") + encoded(cursor_text());
        case 6: return std::string(pick(2) ? "since=" : "cursor=") + cursor_text();  // unencoded: ',' and '.' are fine
        case 7: return pick(2) ? "topic" : "";
        case 8: return "topic=" + topic() + bad_escape();
        case 9: return encoded(random_from("topicsnecur", 1 + pick(8))) + "=" + encoded(random_bytes(pick(8)));
        case 10: return "to%70ic=" + topic();
        default: return random_from("abc=%&+#?", pick(6));
        }
    }

    std::string structured_target()
    {
        static constexpr std::string_view paths[] = {"/sse", "/poll", "/", "", "/sse/x", "*"};
        std::string out(paths[pick(std::size(paths))]);
        if (pick(16) == 0)
            return out;
        out += '?';
        std::vector<std::string> parts;
        if (pick(10) == 0) {
            // Around the topic limits the fuzz uses (1, 3, 8, 128) and the parameter cap that follows them
            // (limit + 16): taken, too many topics, or too many parameters.
            static constexpr std::size_t counts[] = {3, 8, 9, 24, 25, 64, 65, 100, 127, 128, 129, 143, 144, 145, 150};
            for (std::size_t i = 0, n = counts[pick(std::size(counts))]; i < n; ++i)
                parts.push_back("topic=" + (pick(2) ? "m" + std::to_string(i) : encoded(topic())));
        } else if (pick(4) != 0) {  // mostly a request that could be served, made odd by what follows
            for (std::size_t i = 0, n = 1 + pick(3); i < n; ++i)
                parts.push_back("topic=" + encoded(topic()));
            if (pick(2))
                parts.push_back(std::string(pick(2) ? "since=" : "cursor=") + encoded(cursor_text()));
        }
        for (std::size_t i = 0, n = pick(50) == 0 ? 60 + pick(100) : pick(4); i < n; ++i)
            parts.push_back(param());
        std::shuffle(parts.begin(), parts.end(), engine());
        for (std::size_t i = 0; i < parts.size(); ++i)
            out += (i == 0 ? "" : pick(10) == 0 ? "&&" : "&") + parts[i];
        if (pick(20) == 0)
            out += "#" + random_from("topic=a&b#", pick(12));
        return out;
    }

    std::string mutate(std::string s)
    {
        std::size_t const edits = 1 + pick(3);
        for (std::size_t i = 0; i < edits; ++i) {
            std::size_t const at = s.empty() ? 0 : pick(s.size() + 1);
            switch (pick(6)) {
            case 0: s.insert(at, 1, pick(2) ? "%&=#?.,+"[pick(8)] : static_cast<char>(pick(256))); break;
            case 1:
                if (at < s.size())
                    s.erase(at, 1 + pick(3));
                break;
            case 2:
                if (at < s.size())
                    s[at] = static_cast<char>(pick(256));
                break;
            case 3:
                if (!s.empty()) {
                    std::size_t const from = pick(s.size());
                    s.insert(at, s.substr(from, 1 + pick(s.size() - from)));
                }
                break;
            case 4: s.resize(at); break;
            default:
                if (at < s.size())
                    s[at] = static_cast<char>(s[at] ^ (1 << pick(8)));
                break;
            }
        }
        return s;
    }
};

// ---- parse_target against a straightforward model ---------------------------------------------------------

struct target_model {
    bool ok = true;
    std::string path;
    params parameters;
};

int hex_digit(char c)
{
    std::string_view const digits = "0123456789abcdef";
    auto const at = digits.find(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

std::optional<std::string> model_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
        } else if (i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

// The rules of query.hpp: the path ends at '?' (or '#'), the fragment is dropped, pairs split at '&' and at
// their first '=', empty pairs skipped, every escape must be '%' and two hex digits, at most `max_params` pairs.
target_model model_target(std::string_view target, std::size_t max_params)
{
    target_model out;
    if (auto const hash = target.find('#'); hash != std::string_view::npos)
        target = target.substr(0, hash);
    auto const mark = target.find('?');
    out.path = std::string(target.substr(0, mark));
    if (mark == std::string_view::npos)
        return out;
    std::string_view const rest = target.substr(mark + 1);
    std::size_t start = 0;
    while (start <= rest.size()) {
        std::size_t end = rest.find('&', start);
        if (end == std::string_view::npos)
            end = rest.size();
        std::string_view const pair = rest.substr(start, end - start);
        start = end + 1;
        if (pair.empty())
            continue;
        if (out.parameters.size() == max_params) {
            out.ok = false;
            return out;
        }
        auto const eq = pair.find('=');
        auto key = model_decode(pair.substr(0, eq));
        auto value = eq == std::string_view::npos ? std::optional<std::string>("") : model_decode(pair.substr(eq + 1));
        if (!key || !value) {
            out.ok = false;
            return out;
        }
        out.parameters.emplace_back(std::move(*key), std::move(*value));
    }
    return out;
}

std::string fully_encoded(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        auto const b = static_cast<unsigned char>(c);
        out += {'%', hex[b >> 4], hex[b & 15]};
    }
    return out;
}

TEST(query, parses_random_and_mutated_targets_as_documented)
{
    request_generator generate(3986);
    std::size_t parsed = 0, refused = 0;
    for (int i = 0; i < 100'000; ++i) {
        std::string const target = generate.target();
        std::size_t const max_params = i % 5 == 0 ? generate.pick(8) : 64;
        std::string_view path;
        query q;
        boost::system::error_code ec;
        ASSERT_NO_THROW(ec = parse_target(target, path, q, max_params)) << "input #" << i << ": " << shown(target);
        auto const expected = model_target(target, max_params);
        if (ec) {
            ++refused;
            ASSERT_EQ(ec, error::bad_request) << "input #" << i << ": " << shown(target);
            ASSERT_FALSE(expected.ok) << "input #" << i << " refused, the rules accept it: " << shown(target);
            continue;
        }
        ++parsed;
        ASSERT_TRUE(expected.ok) << "input #" << i << " accepted, the rules refuse it: " << shown(target);
        ASSERT_EQ(path, expected.path) << "input #" << i << ": " << shown(target);
        ASSERT_EQ(q.params, expected.parameters) << "input #" << i << ": " << shown(target);
        ASSERT_LE(q.params.size(), max_params);
        // The path is a prefix of the target, without its query or fragment.
        ASSERT_EQ(path.data(), target.data());
        ASSERT_EQ(path.find_first_of("?#"), std::string_view::npos);

        // What was decoded encodes back to the same parameters.
        std::string again = "/p?";
        for (auto const& [key, value] : q.params)
            again += fully_encoded(key) + "=" + fully_encoded(value) + "&";
        std::string_view again_path;
        query again_q;
        ASSERT_FALSE(parse_target(again, again_path, again_q, max_params)) << "input #" << i << ": " << shown(again);
        ASSERT_EQ(again_q.params, q.params) << "input #" << i;
    }
    // The generator is only useful if both outcomes are common.
    EXPECT_GT(parsed, 30'000u);
    EXPECT_GT(refused, 10'000u);
}

// ---- parse_stream_request ---------------------------------------------------------------------------------

struct stream_case {
    std::string target;
    std::optional<std::string> last_event_id;
    std::size_t max_subscriptions;
    bool sse;  // SSE reads ?since= and Last-Event-ID; long polling ?cursor= only
};

// What the request must be refused for, by the pieces' own answers, in the order stream_request.hpp reads it:
// the target, the topics (present, not too many, each valid), then the cursor. Empty when it is well formed.
std::optional<std::string_view> expected_refusal(stream_case const& c, std::string_view header_value, bool has_header)
{
    std::string_view path;
    query q;
    // The parameter cap follows the topic limit: every allowed topic plus 16 other parameters.
    if (parse_target(c.target, path, q, c.max_subscriptions + 16))
        return "bad_request";
    auto const topics = q.all("topic");
    if (topics.empty())
        return "missing_field";
    if (topics.size() > c.max_subscriptions)
        return "too_many_topics";
    if (!std::all_of(topics.begin(), topics.end(), [](std::string const& t) { return switchboard::is_valid_topic(t); }))
        return "invalid_topic";
    std::string_view text;
    if (c.sse && has_header)
        text = header_value;
    else if (auto const* p = q.find(c.sse ? "since" : "cursor"))
        text = *p;
    cursor ignored;
    if (switchboard::decode_cursor(text, ignored, c.max_subscriptions))
        return "invalid_cursor";
    return std::nullopt;
}

class stream_request_fuzz : public stream_request {
protected:
    // Checks one request; returns false (after recording the failure) when it is not answered as it must be.
    bool check(int i, stream_case const& c, std::map<std::string, std::size_t>& answers)
    {
        switchboard::http_request req{boost::beast::http::verb::get, c.target, 11};
        if (c.last_event_id)
            req.set("Last-Event-ID", *c.last_event_id);
        auto const header = req.find("Last-Event-ID");
        bool const has_header = header != req.end();
        std::string_view const header_value = has_header ? std::string_view(header->value()) : std::string_view();
        auto const where = [&] {
            return ::testing::Message() << "input #" << i << ": " << shown(c.target) << " Last-Event-ID "
                                        << (has_header ? shown(header_value) : "none") << ", max "
                                        << c.max_subscriptions << (c.sse ? ", sse" : ", poll");
        };

        stream_answer a;
        bool threw = false;
        try {
            a.ec = switchboard::detail::parse_stream_request(req, options(c.max_subscriptions), c.sse ? "since" : "cursor",
                                                             c.sse, a.request, a.message);
        } catch (...) {
            threw = true;
        }
        if (threw) {
            ADD_FAILURE() << "threw, " << where();
            return false;
        }
        auto const expected = expected_refusal(c, header_value, has_header);
        ++answers[std::string(name(a.ec))];
        if (a.ec == error::too_many_topics && c.max_subscriptions == 128)
            ++answers["too_many_topics for 128"];

        if (a.ec) {
            EXPECT_TRUE(is_stream_request_error(a.ec)) << name(a.ec) << ", " << where();
            EXPECT_FALSE(a.message.empty()) << where();
            EXPECT_TRUE(expected) << "refused with " << name(a.ec) << " (" << a.message << "), " << where();
            if (expected) {
                EXPECT_EQ(name(a.ec), *expected) << a.message << ", " << where();
            }
            return !::testing::Test::HasFailure();
        }

        EXPECT_FALSE(expected) << "accepted, expected " << expected.value_or("") << ", " << where();
        auto const& topics = a.request.topics;
        EXPECT_FALSE(topics.empty()) << where();
        EXPECT_LE(topics.size(), c.max_subscriptions) << where();
        EXPECT_TRUE(std::is_sorted(topics.begin(), topics.end())) << where();
        EXPECT_EQ(std::adjacent_find(topics.begin(), topics.end()), topics.end()) << "a duplicate topic, " << where();
        for (auto const& t : topics)
            EXPECT_TRUE(switchboard::is_valid_topic(t)) << shown(t) << ", " << where();
        expect_well_formed(a.request.since, c.max_subscriptions);

        // Exactly the topics asked for, and exactly the cursor sent (sorted by topic, for lookups).
        std::string_view path;
        query q;
        EXPECT_FALSE(parse_target(c.target, path, q, c.max_subscriptions + 16)) << where();
        auto asked = q.all("topic");
        if (asked.size() > 64)
            ++answers["success with more than 64 topics"];
        std::sort(asked.begin(), asked.end());
        asked.erase(std::unique(asked.begin(), asked.end()), asked.end());
        EXPECT_EQ(topics, asked) << where();
        std::string_view text;
        if (c.sse && has_header)
            text = header_value;
        else if (auto const* p = q.find(c.sse ? "since" : "cursor"))
            text = *p;
        cursor sent;
        EXPECT_FALSE(switchboard::decode_cursor(text, sent, c.max_subscriptions)) << where();
        std::sort(sent.begin(), sent.end(), [](auto const& x, auto const& y) { return x.topic < y.topic; });
        EXPECT_EQ(a.request.since, sent) << "the cursor sent, sorted by topic, " << where();
        answers["resuming"] += a.request.since.empty() ? 0 : 1;
        return !::testing::Test::HasFailure();
    }
};

TEST_F(stream_request_fuzz, reads_random_and_mutated_targets_safely)
{
    request_generator generate(2024'06'13);
    std::map<std::string, std::size_t> answers;
    static constexpr std::size_t limits[] = {1, 3, 8, 128};
    for (int i = 0; i < 100'000; ++i) {
        stream_case const c{generate.target(), generate.pick(2) ? generate.last_event_id() : std::nullopt,
                            limits[generate.pick(std::size(limits))], generate.pick(2) == 1};
        ASSERT_TRUE(check(i, c, answers));
    }
    std::cout << "[          ]";
    for (auto const& [answer, n] : answers)
        std::cout << ' ' << answer << ": " << n << ';';
    std::cout << '\n';
    // The generator is only useful if every answer is common.
    for (std::string_view answer :
         {"success", "bad_request", "missing_field", "too_many_topics", "invalid_topic", "invalid_cursor"})
        EXPECT_GT(answers[std::string(answer)], 1'000u) << answer;
    // Requests that only the parameter cap of max_subscriptions + 16 lets through.
    EXPECT_GT(answers["success with more than 64 topics"], 100u);
    EXPECT_GT(answers["too_many_topics for 128"], 100u);
}

TEST_F(stream_request_fuzz, reads_random_and_mutated_last_event_ids_safely)
{
    request_generator generate(6202);
    std::map<std::string, std::size_t> answers;
    static constexpr std::string_view targets[] = {"/sse?topic=news", "/sse?topic=a&topic=chat.room&since=1.e.a",
                                                   "/sse?topic=x-y_z&topic=t:1&topic=a/b"};
    for (int i = 0; i < 100'000; ++i) {
        auto value = generate.last_event_id();
        if (!value)
            value = generate.cursor_text();
        stream_case const c{std::string(targets[i % std::size(targets)]), value, i % 4 == 0 ? std::size_t{2} : 128,
                            true};
        ASSERT_TRUE(check(i, c, answers));
    }
    EXPECT_GT(answers["resuming"], 20'000u);
    EXPECT_GT(answers["invalid_cursor"], 20'000u);
}

}  // namespace
