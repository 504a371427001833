// parse_command: one WebSocket text message read as a command (docs/protocol.md). A case for every documented
// rule, then 100,000 generated texts (random bytes, random JSON, valid commands with one field changed, byte
// mutations of valid commands) checked against a model of the protocol written from the doc: whatever the text,
// parse_command never throws and gives exactly the answer the model gives, with a readable message.

#include "websocket/command.hpp"
#include "websocket/frame_parser.hpp"  // is_valid_utf8

#include "support/json_members.hpp"
#include "support/random_input.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using nlohmann::json;
using switchboard::error;
using switchboard::position;
using switchboard::websocket::command;
using switchboard::websocket::command_error;
using switchboard::websocket::is_valid_utf8;
using kind = switchboard::websocket::command::kind;
using switchboard::test::append_utf8;
using switchboard::test::epoch_chars;
using switchboard::test::random_input;
using switchboard::test::topic_chars;

struct parsed_command {
    std::optional<command> cmd;
    command_error failure;
};

parsed_command parse_command(std::string_view text)
{
    parsed_command out;
    out.cmd = switchboard::websocket::parse_command(text, out.failure);
    return out;
}

std::string shown(std::string_view text)
{
    return ::testing::PrintToString(std::string(text.substr(0, 300))) + (text.size() > 300 ? "..." : "");
}

std::string_view name(boost::system::error_code const& ec)
{
    return switchboard::error_name(ec);
}

command accepted(std::string_view text)
{
    auto r = parse_command(text);
    EXPECT_TRUE(r.cmd) << shown(text) << " refused: " << r.failure.message;
    return r.cmd.value_or(command{});
}

command_error refused(std::string_view text, error expected)
{
    auto r = parse_command(text);
    if (r.cmd) {
        ADD_FAILURE() << "accepted, expected " << name(expected) << ": " << shown(text);
        return r.failure;
    }
    EXPECT_EQ(name(r.failure.code), name(expected)) << shown(text) << ": " << r.failure.message;
    EXPECT_FALSE(r.failure.message.empty()) << shown(text);
    return r.failure;
}

std::string nested_arrays(std::size_t levels, std::string_view innermost = "")
{
    return std::string(levels, '[') + std::string(innermost) + std::string(levels, ']');
}

std::string publish_with_data(std::string_view data)
{
    return R"({"type":"publish","topic":"t","data":)" + std::string(data) + "}";
}

std::string subscribe_since(std::string_view since)
{
    return R"({"type":"subscribe","topic":"t","since":)" + std::string(since) + "}";
}

// ---- each documented rule ---------------------------------------------------------------------------------

TEST(command, reads_each_documented_command)
{
    auto c = accepted(R"({"type":"subscribe","topic":"news"})");
    EXPECT_EQ(c.type, kind::subscribe);
    EXPECT_EQ(c.topic, "news");
    EXPECT_FALSE(c.id);
    EXPECT_FALSE(c.since);

    c = accepted(R"({"type":"unsubscribe","topic":"chat.room/1"})");
    EXPECT_EQ(c.type, kind::unsubscribe);
    EXPECT_EQ(c.topic, "chat.room/1");

    c = accepted(R"({"type":"publish","topic":"a:b@c-d_e","data":{"x":[1,"two",null]}})");
    EXPECT_EQ(c.type, kind::publish);
    EXPECT_EQ(c.topic, "a:b@c-d_e");
    EXPECT_EQ(c.data, R"({"x":[1,"two",null]})");  // the client's text, not a re-serialization

    c = accepted(R"({"type":"ping"})");
    EXPECT_EQ(c.type, kind::ping);
    EXPECT_FALSE(c.id);
}

TEST(command, accepts_whitespace_and_any_field_order)
{
    auto const c = accepted(" \t\r\n{ \"data\" : 5 ,\n\"topic\":\"t\", \"id\" : 3, \"type\" : \"publish\" }\n ");
    EXPECT_EQ(c.type, kind::publish);
    EXPECT_EQ(c.data, "5");
    EXPECT_EQ(c.id, json(3));
}

TEST(command, ignores_unknown_fields)
{
    auto const c = accepted(R"({"type":"subscribe","topic":"t","extra":[1,2],"Topic":5,"data":1})");
    EXPECT_EQ(c.type, kind::subscribe);
    EXPECT_EQ(c.topic, "t");
}

TEST(command, reads_a_number_or_string_id)
{
    for (std::string_view id : {"0", "-7", "1.5", "18446744073709551615", "1e300", R"("")", R"("abc")",
                                R"("caf\u00e9 \ud83d\ude00")", R"("x\"y")"}) {
        auto const c = accepted(R"({"type":"ping","id":)" + std::string(id) + "}");
        ASSERT_TRUE(c.id) << id;
        EXPECT_EQ(*c.id, json::parse(id)) << id;
    }
}

TEST(command, ignores_an_id_that_is_not_a_number_or_string)
{
    for (std::string_view id : {"null", "true", "false", "[]", "[1]", "{}", R"({"id":1})"}) {
        auto r = parse_command(R"({"type":"ping","id":)" + std::string(id) + "}");
        ASSERT_TRUE(r.cmd) << id;
        EXPECT_FALSE(r.cmd->id) << id;
        EXPECT_FALSE(r.failure.id) << id;
        // Nor is it echoed with a refusal.
        EXPECT_FALSE(refused(R"({"type":"nope","id":)" + std::string(id) + "}", error::unknown_type).id) << id;
    }
}

TEST(command, refuses_text_that_is_not_json)
{
    for (std::string_view text : {"", " ", "{", "}", R"({"type":"ping")", R"({"type":"ping"} x)",
                                  R"({"type":"ping"}{"type":"ping"})", "{'type':'ping'}", R"({type:"ping"})",
                                  R"({"type":"ping",})", R"(/*c*/{"type":"ping"})", R"({"type":"p\ing"})",
                                  R"({"type":"\ud800"})", "nul", "\xEF\xBB\xBF{\"type\":\"ping\"}x", "{\"type\":\"\xFF\"}",
                                  "{\"type\":\"\xC3\"}", "{\"type\":\"a\x01\"}", R"({"id":1e400,"type":"ping"})", "NaN"})
        refused(text, error::invalid_json);
}

TEST(command, refuses_json_that_is_not_an_object)
{
    for (std::string_view text : {"[]", R"([{"type":"ping"}])", "1", "-1.5", R"("ping")", "null", "true"})
        refused(text, error::invalid_json);
}

TEST(command, requires_a_string_type)
{
    for (std::string_view text : {"{}", R"({"type":null})", R"({"type":1})", R"({"type":["ping"]})",
                                  R"({"type":{"type":"ping"}})", R"({"Type":"ping"})", R"({"topic":"a"})"})
        refused(text, error::missing_field);
}

TEST(command, refresh_carries_a_token)
{
    auto const c = accepted(R"({"type":"refresh","token":"abc.def.ghi","id":7})");
    EXPECT_EQ(c.type, kind::refresh);
    EXPECT_EQ(c.token, "abc.def.ghi");
    EXPECT_EQ(c.id, json(7));
    for (std::string_view text : {R"({"type":"refresh"})", R"({"type":"refresh","token":""})", R"({"type":"refresh","token":5})"})
        refused(std::string(text), error::missing_field);
}

TEST(command, refuses_an_unknown_type)
{
    for (std::string_view type : {"", "Ping", "PING", " ping", "ping ", "subscribe\\u0000", "sub", "publish/",
                                  "ack", "error", "pong", "message", "caf\\u00e9"}) {
        auto const f = refused(R"({"type":")" + std::string(type) + R"(","topic":"t","data":1})", error::unknown_type);
        EXPECT_TRUE(is_valid_utf8(f.message)) << type;
    }
}

TEST(command, cuts_a_long_unknown_type_in_the_message)
{
    auto const f = refused(R"({"type":")" + std::string(10'000, 'x') + R"("})", error::unknown_type);
    EXPECT_LT(f.message.size(), 200u);
}

TEST(command, requires_a_string_topic_except_for_ping)
{
    for (std::string_view type : {"subscribe", "unsubscribe", "publish"}) {
        for (std::string_view topic : {"", R"(,"topic":null)", R"(,"topic":1)", R"(,"topic":["a"])",
                                       R"(,"topic":{"name":"a"})", R"(,"Topic":"a")"}) {
            refused(R"({"type":")" + std::string(type) + '"' + std::string(topic) + R"(,"data":1})",
                    error::missing_field);
        }
    }
    // A ping carries nothing else: whatever else it holds is not read.
    EXPECT_EQ(accepted(R"({"type":"ping","topic":"not a topic","since":1,"data":[]})").type, kind::ping);
}

TEST(command, checks_the_topic_name)
{
    for (std::string topic : {std::string(), std::string(129, 'a'), std::string("a b"), std::string("a+b"),
                              std::string("a,b"), std::string("a#b"), std::string("a?b"), std::string("a%2Fb"),
                              std::string("caf\\u00e9"), std::string("a\\u0000"), std::string("a\\nb"),
                              std::string("\\ud83d\\ude00")}) {
        for (std::string_view type : {"subscribe", "unsubscribe", "publish"})
            refused(R"({"type":")" + std::string(type) + R"(","topic":")" + topic + R"(","data":1})",
                    error::invalid_topic);
    }
    EXPECT_EQ(accepted(R"({"type":"subscribe","topic":")" + std::string(128, 'z') + "\"}").topic,
              std::string(128, 'z'));
    std::string const every_character = "azAZ09_.:@/-";
    EXPECT_EQ(accepted(R"({"type":"publish","topic":")" + every_character + R"(","data":0})").topic, every_character);
}

TEST(command, publish_requires_data_of_any_type)
{
    refused(R"({"type":"publish","topic":"t"})", error::missing_field);
    refused(R"({"type":"publish","topic":"t","Data":1})", error::missing_field);
    for (std::string_view data : {"null", "false", "0", "-1.25", R"("")", "[]", "{}", R"({"nested":{"a":[1,{}]}})"}) {
        auto const c = accepted(publish_with_data(data));
        EXPECT_EQ(c.data, data);
    }
}

// The data is the exact text of the value: whitespace inside it, key order, numbers and escapes as written.
TEST(command, publish_keeps_the_text_of_data_as_written)
{
    for (std::string_view data :
         {R"({"b":1.10,"a":1e2,"big":12345678901234567890123})", "[-0, 1E+2,\t0.1e-7 ]",
          R"("\u0000 \" \\ \/ \ud83d\ude00")", "\"h\xC3\xA9llo \xF0\x9F\x98\x80\"", "{\n  \"a\": [\n    1\n  ]\n}",
          R"({"data":{"data":1},"d\u0061ta":"\"data\":2"})"}) {
        EXPECT_EQ(accepted(publish_with_data(data)).data, data);
        EXPECT_EQ(accepted(" {\"data\" :\n " + std::string(data) + " , \"topic\":\"t\",\"type\":\"publish\"}\n").data, data);
        EXPECT_EQ(accepted(R"({"type":"publish","d\u0061ta":)" + std::string(data) + R"(,"topic":"t"})").data, data);
    }
}

TEST(command, publish_refuses_data_that_cannot_be_delivered_byte_for_byte)
{
    // A raw CR is JSON whitespace, but SSE would read it as a line end.
    auto f = refused(publish_with_data("[1,\r\n2]"), error::invalid_json);
    EXPECT_NE(f.message.find("carriage return"), std::string::npos) << f.message;
    // Around the data, it is only the command's whitespace.
    EXPECT_EQ(accepted("{\"type\":\"publish\",\r\n\"topic\":\"t\",\"data\":[1]\r\n}").data, "[1]");
    // Two "data" members: which one is meant is refused, not guessed.
    f = refused(R"({"type":"publish","topic":"t","data":1,"data":2})", error::invalid_json);
    EXPECT_NE(f.message.find("more than once"), std::string::npos) << f.message;
    refused(R"({"type":"publish","topic":"t","data":1,"d\u0061ta":1})", error::invalid_json);
    // Other commands do not read "data".
    EXPECT_EQ(accepted("{\"type\":\"subscribe\",\"topic\":\"t\",\"data\":1,\"data\":[2,\r3]}").type, kind::subscribe);
}

TEST(command, subscribe_reads_since)
{
    auto c = accepted(subscribe_since(R"({"offset":5,"epoch":"abc"})"));
    EXPECT_EQ(c.since, (position{5, "abc"}));
    c = accepted(subscribe_since(R"({"epoch":"Z9","offset":0,"other":true})"));
    EXPECT_EQ(c.since, (position{0, "Z9"}));
    c = accepted(subscribe_since(R"({"offset":18446744073709551615,"epoch":")" + std::string(32, 'e') + "\"}"));
    EXPECT_EQ(c.since, (position{std::numeric_limits<std::uint64_t>::max(), std::string(32, 'e')}));
    // The empty epoch is as valid here as in a cursor ("0..topic").
    EXPECT_EQ(accepted(subscribe_since(R"({"offset":1,"epoch":""})")).since, (position{1, ""}));
}

TEST(command, refuses_a_since_that_is_not_an_offset_and_an_epoch)
{
    for (std::string_view since :
         {"null", "5", R"("5.e.t")", "[]", "[5,\"e\"]", "{}", R"({"offset":5})", R"({"epoch":"e"})",
          R"({"offset":-1,"epoch":"e"})", R"({"offset":1.5,"epoch":"e"})",
          R"({"offset":1e3,"epoch":"e"})", R"({"offset":1.0,"epoch":"e"})", R"({"offset":"5","epoch":"e"})",
          R"({"offset":true,"epoch":"e"})", R"({"offset":null,"epoch":"e"})",
          R"({"offset":18446744073709551616,"epoch":"e"})", R"({"offset":{"offset":1,"epoch":"e"},"epoch":"e"})",
          R"({"offset":1,"epoch":5})", R"({"offset":1,"epoch":null})", R"({"offset":1,"epoch":["e"]})",
          R"({"offset":1,"epoch":"e-1"})", R"({"offset":1,"epoch":"e.1"})", R"({"offset":1,"epoch":"e 1"})",
          R"({"offset":1,"epoch":"caf\u00e9"})", R"({"offset":1,"epoch":"\u0661"})",
          R"({"Offset":1,"epoch":"e"})"})
        refused(subscribe_since(since), error::invalid_cursor);
    refused(subscribe_since(R"({"offset":1,"epoch":")" + std::string(33, 'e') + "\"}"), error::invalid_cursor);
}

TEST(command, reads_since_only_for_subscribe)
{
    auto c = accepted(R"({"type":"unsubscribe","topic":"t","since":"garbage"})");
    EXPECT_FALSE(c.since);
    c = accepted(R"({"type":"publish","topic":"t","data":1,"since":{"offset":-1}})");
    EXPECT_FALSE(c.since);
}

TEST(command, echoes_a_readable_id_with_every_refusal_after_the_json)
{
    struct case_ {
        std::string text;
        error code;
    } const cases[] = {
        {R"({"id":"x"})", error::missing_field},
        {R"({"id":"x","type":"dance"})", error::unknown_type},
        {R"({"id":"x","type":"subscribe"})", error::missing_field},
        {R"({"id":"x","type":"subscribe","topic":"a b"})", error::invalid_topic},
        {R"({"id":"x","type":"subscribe","topic":"a","since":{}})", error::invalid_cursor},
        {R"({"id":"x","type":"publish","topic":"a"})", error::missing_field},
    };
    for (auto const& c : cases)
        EXPECT_EQ(refused(c.text, c.code).id, json("x")) << c.text;
    EXPECT_EQ(refused(R"({"type":"dance","id":-2.5})", error::unknown_type).id, json(-2.5));
}

TEST(command, refuses_json_nested_deeper_than_64_levels)
{
    // The command object is the first level.
    EXPECT_EQ(accepted(publish_with_data(nested_arrays(63, "1"))).data, nested_arrays(63, "1"));
    std::string deep_object = "1";
    for (int i = 0; i < 63; ++i)
        deep_object = R"({"a":)" + deep_object + "}";
    accepted(publish_with_data(deep_object));

    refused(publish_with_data(nested_arrays(64, "1")), error::invalid_json);
    refused(publish_with_data(nested_arrays(65)), error::invalid_json);
    refused(publish_with_data(R"({"a":)" + deep_object + "}"), error::invalid_json);
    refused(R"({"type":"ping","x":)" + nested_arrays(100) + "}", error::invalid_json);
    refused(nested_arrays(1'000), error::invalid_json);
    // Far deeper than any stack would survive if anything recursed on it.
    refused(publish_with_data(nested_arrays(200'000, "1")), error::invalid_json);
    refused(std::string(200'000, '['), error::invalid_json);
    std::string objects;
    for (int i = 0; i < 50'000; ++i)
        objects += R"({"a":)";
    refused(objects, error::invalid_json);
}

// The bound counts every container, the innermost too when it is empty (json_input.hpp, docs/protocol.md): the
// command object plus 64 nested arrays is 65 levels, refused like 65 levels with a scalar inside.
TEST(command, refuses_65_levels_even_when_the_innermost_is_empty)
{
    refused(publish_with_data(nested_arrays(64)), error::invalid_json);
    refused(publish_with_data(nested_arrays(63, "{}")), error::invalid_json);
    refused(publish_with_data(nested_arrays(63, "[]")), error::invalid_json);
    std::string empty_innermost = "{}";
    for (int i = 0; i < 63; ++i)
        empty_innermost = R"({"a":)" + empty_innermost + "}";
    refused(publish_with_data(empty_innermost), error::invalid_json);
    // 64 levels, the innermost empty, is the deepest allowed.
    EXPECT_EQ(accepted(publish_with_data(nested_arrays(63))).data, nested_arrays(63));
    EXPECT_EQ(accepted(publish_with_data(nested_arrays(62, "{}"))).data, nested_arrays(62, "{}"));
    // Brackets inside strings are text, not nesting.
    auto const quoted = "\"" + nested_arrays(100) + "\"";
    EXPECT_EQ(accepted(publish_with_data(quoted)).data, quoted);
    auto const escaped = R"("\"[[[[\\")";
    EXPECT_EQ(accepted(publish_with_data(nested_arrays(63, escaped))).data, nested_arrays(63, escaped));
}

// The unknown_type message quotes at most 64 bytes of the type, cut on a character boundary: the message stays
// UTF-8 (the error frame that carries it must be), and quotes a prefix of the type.
TEST(command, an_unknown_type_message_is_utf8_however_the_type_is_cut)
{
    for (std::size_t before = 60; before <= 64; ++before) {
        for (std::string_view character : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E"}) {
            std::string const type = std::string(before, 'a') + std::string(character) + "tail";
            auto const f = refused(R"({"type":")" + type + "\"}", error::unknown_type);
            EXPECT_TRUE(is_valid_utf8(f.message)) << before << " + " << character.size() << "-byte character";
            EXPECT_NE(f.message.find(std::string(before, 'a')), std::string::npos) << f.message;
            EXPECT_LT(f.message.size(), 64 + 40u) << f.message;
        }
    }
}

TEST(command, every_refusal_has_a_readable_message)
{
    for (std::string_view text : {"x", "[]", "{}", R"({"type":"x"})", R"({"type":"publish"})",
                                  R"({"type":"publish","topic":"?"})", R"({"type":"publish","topic":"a"})",
                                  R"({"type":"subscribe","topic":"a","since":0})"}) {
        auto const r = parse_command(text);
        ASSERT_FALSE(r.cmd) << text;
        EXPECT_FALSE(r.failure.message.empty()) << text;
        EXPECT_TRUE(is_valid_utf8(r.failure.message)) << text;
        EXPECT_NE(name(r.failure.code), "internal_error") << text;
    }
}

// ---- a model of the protocol, from docs/protocol.md -------------------------------------------------------

bool model_topic(std::string const& s)
{
    static constexpr std::string_view allowed =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@/-";
    return !s.empty() && s.size() <= 128 && s.find_first_not_of(allowed) == std::string::npos;
}

bool model_epoch(std::string const& s)
{
    static constexpr std::string_view allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return s.size() <= 32 && s.find_first_not_of(allowed) == std::string::npos;
}

// Levels of containers: 0 for a scalar, 1 for [] or [1], 2 for [[1]].
std::size_t depth_of(json const& j)
{
    if (!j.is_structured())
        return 0;
    std::size_t deepest = 0;
    for (auto const& child : j)
        deepest = std::max(deepest, depth_of(child));
    return 1 + deepest;
}

struct model_answer {
    std::optional<error> code;  // empty: accepted as `cmd`
    command cmd;
    std::optional<json> id;
    std::size_t depth = 0;  // of valid JSON
    std::string type;       // when it is a string
};

model_answer model(std::string_view text)
{
    model_answer out;
    json const j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        out.code = error::invalid_json;
        return out;
    }
    // More than 64 levels of containers, every one counted (an empty innermost one too).
    out.depth = depth_of(j);
    if (out.depth > 64) {
        out.code = error::invalid_json;
        return out;
    }
    auto const refuse = [&out](error e) {
        out.code = e;
        return out;
    };
    if (!j.is_object())
        return refuse(error::invalid_json);
    if (j.contains("id") && (j["id"].is_number() || j["id"].is_string()))
        out.id = j["id"];
    out.cmd.id = out.id;
    if (!j.contains("type") || !j["type"].is_string())
        return refuse(error::missing_field);
    auto const type = j["type"].get<std::string>();
    out.type = type;
    if (type == "ping") {
        out.cmd.type = kind::ping;
        return out;
    }
    if (type == "subscribe")
        out.cmd.type = kind::subscribe;
    else if (type == "unsubscribe")
        out.cmd.type = kind::unsubscribe;
    else if (type == "publish")
        out.cmd.type = kind::publish;
    else
        return refuse(error::unknown_type);
    if (!j.contains("topic") || !j["topic"].is_string())
        return refuse(error::missing_field);
    out.cmd.topic = j["topic"].get<std::string>();
    if (!model_topic(out.cmd.topic))
        return refuse(error::invalid_topic);
    if (out.cmd.type == kind::subscribe && j.contains("since")) {
        auto const& since = j["since"];
        if (!since.is_object() || !since.contains("offset") || !since["offset"].is_number_unsigned() ||
            !since.contains("epoch") || !since["epoch"].is_string() || !model_epoch(since["epoch"].get<std::string>()))
            return refuse(error::invalid_cursor);
        out.cmd.since = position{since["offset"].get<std::uint64_t>(), since["epoch"].get<std::string>()};
    }
    if (out.cmd.type == kind::publish) {
        // The data is the text of the one "data" member, as written; SSE could not carry a raw CR in it.
        auto const data = switchboard::test::member_values(text, "data");
        if (data.empty())
            return refuse(error::missing_field);
        if (data.size() > 1 || data[0].find('\r') != std::string_view::npos)
            return refuse(error::invalid_json);
        out.cmd.data = data[0];
    }
    return out;
}

// ---- generating texts -------------------------------------------------------------------------------------

class command_text_generator : public random_input {
public:
    explicit command_text_generator(std::uint32_t seed) : random_input(seed) {}

    std::string next()
    {
        switch (pick(11)) {
        case 0: return random_bytes(pick(48));
        case 1: return random_from(R"({}[]":,0123456789.-+eE tfnrul\pingtypeidsubscribe)", pick(48));
        case 2: return dump(random_value(2));
        case 3: return dump(random_object(2));
        case 4: return dump(valid_command());
        case 8: return publish_written_by_hand();
        case 5:
        case 6:
        case 7: return with_one_field_changed();
        default: return mutate(dump(valid_command()));
        }
    }

private:
    static constexpr std::string_view splice_mark = "@@splice@@";

    // Valid UTF-8 (a json string must be), of every width, with quotes, backslashes and control characters.
    std::string random_string()
    {
        std::size_t const n = pick(40) == 0 ? 100 + pick(300) : pick(12);
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            switch (pick(6)) {
            case 0: append_utf8(out, static_cast<std::uint32_t>(0x80 + pick(0x800 - 0x80))); break;
            case 1: append_utf8(out, static_cast<std::uint32_t>(0x800 + pick(0xD800 - 0x800))); break;
            case 2: append_utf8(out, static_cast<std::uint32_t>(0x10000 + pick(0x110000 - 0x10000))); break;
            case 3: out += "\"\\\x01\n\x7F"[pick(5)]; break;
            default: out += topic_chars[pick(topic_chars.size())]; break;
            }
        }
        return out;
    }

    std::string valid_topic() { return random_from(topic_chars, 1 + (pick(10) == 0 ? pick(128) : pick(12))); }

    json random_number()
    {
        switch (pick(7)) {
        case 0: return pick(1000);
        case 1: return -static_cast<std::int64_t>(1 + pick(1000));
        case 2: return std::numeric_limits<std::uint64_t>::max() - pick(3);
        case 3: return std::numeric_limits<std::int64_t>::min() + static_cast<std::int64_t>(pick(3));
        case 4: return static_cast<double>(pick(1000)) / 8.0;
        case 5: return pick(2) ? 1e300 : -1e-300;
        default: return -0.0;
        }
    }

    json random_value(int depth)
    {
        switch (pick(depth > 0 ? 8 : 5)) {
        case 0: return nullptr;
        case 1: return pick(2) == 1;
        case 2: return random_number();
        case 3:
        case 4: return random_string();
        case 5:
        case 6: {
            json a = json::array();
            for (std::size_t i = 0, n = pick(4); i < n; ++i)
                a.push_back(random_value(depth - 1));
            return a;
        }
        default: return random_object(depth - 1);
        }
    }

    std::string random_key()
    {
        static constexpr std::string_view keys[] = {"type", "topic", "id", "since", "data", "offset", "epoch", "Type", ""};
        return pick(3) ? std::string(keys[pick(std::size(keys))]) : random_string();
    }

    json random_object(int depth)
    {
        static constexpr std::string_view types[] = {"subscribe", "unsubscribe", "publish", "ping", "Ping", "pong", ""};
        json o = json::object();
        if (pick(2))
            o["type"] = pick(4) ? json(std::string(types[pick(std::size(types))])) : random_value(0);
        for (std::size_t i = 0, n = pick(5); i < n; ++i)
            o[random_key()] = depth > 0 ? random_value(depth - 1) : json(random_string());
        return o;
    }

    json random_id()
    {
        switch (pick(5)) {
        case 0: return random_number();
        case 1: return random_string();
        default: return pick(100000);
        }
    }

    json valid_command()
    {
        static constexpr std::string_view types[] = {"subscribe", "unsubscribe", "publish", "ping"};
        json c = {{"type", std::string(types[pick(4)])}};
        if (pick(2))
            c["id"] = random_id();
        if (c["type"] == "ping")
            return c;
        c["topic"] = valid_topic();
        if (c["type"] == "subscribe" && pick(2)) {
            std::uint64_t const offset = pick(4) == 0 ? std::numeric_limits<std::uint64_t>::max() - pick(2) : pick(100);
            c["since"] = {{"offset", offset}, {"epoch", random_from(epoch_chars, pick(33))}};
        }
        if (c["type"] == "publish")
            c["data"] = random_value(2);
        return c;
    }

    // Just over the topic limit, or long enough to cost something (up to past the 64 KiB message limit).
    std::string long_string()
    {
        std::size_t const n = pick(2) ? 129 : pick(20) ? 200 + pick(3'000) : 64 * 1024 + pick(5'000);
        switch (pick(3)) {
        case 0: return std::string(n, 'a');
        case 1: return std::string(n, '/');
        default: {  // characters of every width, so that a cut at a fixed byte count may fall inside one
            static constexpr std::string_view wide[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E", "a"};
            std::string out;
            while (out.size() < n)
                out += wide[pick(std::size(wide))];
            return out;
        }
        }
    }

    // An unknown type with a multi-byte character at or around byte 64, where a message quoting the first 64
    // bytes ends.
    std::string long_type()
    {
        static constexpr std::string_view wide[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E"};
        std::string out(60 + pick(5), "aZ_"[pick(3)]);
        out += wide[pick(std::size(wide))];
        return out + random_string();
    }

    // A topic one step from valid: empty, one character too long, or with one character not allowed.
    std::string near_miss_topic()
    {
        switch (pick(4)) {
        case 0: return "";
        case 1: return random_from(topic_chars, 129 + pick(3));
        default: {
            static constexpr std::string_view bad[] = {" ", "+", ",", "#", "?", "%", "*", "\\", "\"", "\n", "\x7F",
                                                       "\x01", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E"};
            std::string t = valid_topic();
            t.insert(pick(t.size() + 1), bad[pick(std::size(bad))]);
            return t;
        }
        }
    }

    // `levels` arrays (or now and then objects) around an empty array, an empty object or a scalar: the empty
    // innermost container is one level more.
    json deep_arrays(std::size_t levels)
    {
        json v = pick(3) == 0 ? json(1) : pick(2) ? json::array() : json::object();
        bool const objects = pick(4) == 0;
        for (std::size_t i = 0; i < levels; ++i)
            v = objects && pick(2) ? json{{"a", std::move(v)}} : json::array({std::move(v)});
        return v;
    }

    // A replacement for one field: wrong types, huge and negative numbers, floats, nested objects, long and
    // non-ASCII strings, deep nesting.
    json odd_value()
    {
        switch (pick(12)) {
        case 0: return nullptr;
        case 1: return random_number();
        case 2: return random_string();
        case 3: return long_string();
        case 4: return json::array({random_value(1)});
        case 5: return random_object(2);
        case 6: return {{"offset", random_number()}, {"epoch", pick(2) ? json(random_string()) : random_value(1)}};
        case 7: return {{"offset", {{"offset", 1}, {"epoch", "e"}}}, {"epoch", {{"epoch", "e"}}}};
        case 8: return deep_arrays(60 + pick(10));
        case 9: return deep_arrays(pick(3) ? 62 + pick(4) : 100 + pick(400));
        case 10: return pick(2) ? json(valid_topic()) : json(std::string(pick(2) ? "ping" : "subscribe"));
        default: return pick(2) == 1;
        }
    }

    // JSON number and string texts nlohmann would never write, spliced in as text.
    std::string odd_literal()
    {
        static constexpr std::string_view literals[] = {
            "18446744073709551615", "18446744073709551616", "-9223372036854775809", "123456789012345678901234567890",
            "-1", "-0", "0", "00", "01", "1.0", "1e3", "1E400", "-1e400", "1e-400", "0.5", "NaN", "Infinity",
            "true", "nulL", "[]", "{}", R"("")", R"("\ud83d\ude00")", R"("\ud800")", R"("\u0000")", R"("\x41")",
            R"("caf\u00E9")", "\"\xC3\xA9\"", "\"\xC3\"", "\"\xFF\"", R"({"offset":1,"epoch":"e","offset":2})",
        };
        if (pick(6) == 0) {
            std::size_t const levels = pick(2) ? 60 + pick(10) : 100 + pick(2'000);
            std::string_view const innermost = pick(3) == 0 ? "1" : pick(2) ? "[]" : "{}";
            return std::string(levels, '[') + std::string(innermost) + std::string(levels, ']');
        }
        return std::string(literals[pick(std::size(literals))]);
    }

    // A publish whose data text nlohmann would not write: line feeds and raw CRs as whitespace inside or around
    // it, "data" spelled with an escape, or given twice.
    std::string publish_written_by_hand()
    {
        std::string data = dump(random_value(2));
        if ((data.starts_with('[') || data.starts_with('{')) && pick(2))
            data.insert(1, pick(2) ? " \n\t" : " \r\n");
        static constexpr std::string_view around[] = {"", " ", "\n", "\r\n", "\t \r"};
        std::string text = R"({"type":"publish","topic":")" + valid_topic() + R"(",)" +
                           (pick(3) ? R"("data")" : R"("d\u0061ta")") + ":" + std::string(around[pick(5)]) + data +
                           std::string(around[pick(5)]);
        if (pick(4) == 0)
            text += R"(,"data":)" + dump(random_value(1));
        return text + "}";
    }

    std::string with_one_field_changed()
    {
        static constexpr std::string_view fields[] = {"type", "topic", "id", "since", "data", "offset", "epoch"};
        json c = valid_command();
        if (c["type"] == "subscribe" && !c.contains("since") && pick(2))
            c["since"] = {{"offset", 1}, {"epoch", "e"}};
        std::string_view const field = fields[pick(std::size(fields))];
        json* target = &c;
        if (field == "offset" || field == "epoch") {
            if (!c.contains("since") || !c["since"].is_object())
                c["since"] = {{"offset", 1}, {"epoch", "e"}};
            target = &c["since"];
        }
        if (field == "topic" && pick(2)) {
            c["topic"] = near_miss_topic();
            return dump(c);
        }
        if (field == "type" && pick(3) == 0) {
            c["type"] = long_type();
            return dump(c);
        }
        bool splice = false;
        switch (pick(5)) {
        case 0: target->erase(std::string(field)); break;
        case 1: (*target)[std::string(field)] = std::string(splice_mark); splice = true; break;
        default: (*target)[std::string(field)] = odd_value(); break;
        }
        std::string text = dump(c);
        if (splice) {
            auto const at = text.find("\"" + std::string(splice_mark) + "\"");
            if (at != std::string::npos)
                text.replace(at, splice_mark.size() + 2, odd_literal());
        }
        return text;
    }

    std::string dump(json const& j)
    {
        switch (pick(6)) {
        case 0: return depth_of(j) < 8 ? j.dump(2) : j.dump();  // indentation grows with the square of depth
        case 1: return j.dump(-1, ' ', /*ensure_ascii=*/true);
        default: return j.dump();
        }
    }

    std::string mutate(std::string s)
    {
        std::size_t const edits = 1 + pick(4);
        for (std::size_t i = 0; i < edits; ++i) {
            std::size_t const at = s.empty() ? 0 : pick(s.size() + 1);
            switch (pick(7)) {
            case 0: s.insert(at, 1, pick(2) ? R"({}[]":,\0-.e)"[pick(13)] : static_cast<char>(pick(256))); break;
            case 1:
                if (at < s.size())
                    s.erase(at, 1 + pick(4));
                break;
            case 2:
                if (at < s.size())
                    s[at] = static_cast<char>(s[at] ^ (1 << pick(8)));
                break;
            case 3:
                if (!s.empty()) {
                    std::size_t const from = pick(s.size());
                    s.insert(at, s.substr(from, 1 + pick(s.size() - from)));
                }
                break;
            case 4: s.resize(at); break;
            case 5:
                if (at < s.size())
                    s[at] = static_cast<char>(pick(256));
                break;
            default:
                if (s.size() > 1)
                    std::swap(s[pick(s.size())], s[pick(s.size())]);
                break;
            }
        }
        return s;
    }
};

TEST(command, answers_random_and_mutated_text_as_the_protocol_says)
{
    command_text_generator generate(20240612);
    std::size_t accepted_count = 0, at_the_depth_limit = 0, one_past_it = 0, cut_inside_a_character = 0;
    std::map<std::string, std::size_t> refusals;
    for (int i = 0; i < 100'000; ++i) {
        std::string const text = generate.next();
        parsed_command r;
        ASSERT_NO_THROW(r.cmd = switchboard::websocket::parse_command(text, r.failure))
            << "input #" << i << ": " << shown(text);
        auto const expected = model(text);
        at_the_depth_limit += expected.depth == 64 ? 1 : 0;
        one_past_it += expected.depth == 65 ? 1 : 0;

        if (r.cmd) {
            ++accepted_count;
            ASSERT_FALSE(expected.code) << "input #" << i << " accepted, the protocol says "
                                        << name(*expected.code) << ": " << shown(text);
            auto const& c = *r.cmd;
            ASSERT_FALSE(r.failure.code) << "input #" << i;
            ASSERT_EQ(c.type, expected.cmd.type) << "input #" << i << ": " << shown(text);
            ASSERT_EQ(c.id, expected.cmd.id) << "input #" << i << ": " << shown(text);
            if (c.id) {
                ASSERT_TRUE(c.id->is_number() || c.id->is_string()) << "input #" << i;
            }
            if (c.type == kind::ping)
                continue;
            ASSERT_EQ(c.topic, expected.cmd.topic) << "input #" << i << ": " << shown(text);
            ASSERT_TRUE(switchboard::is_valid_topic(c.topic)) << "input #" << i << ": " << shown(text);
            ASSERT_EQ(c.since, expected.cmd.since) << "input #" << i << ": " << shown(text);
            if (c.since) {
                ASSERT_LE(c.since->epoch.size(), switchboard::max_epoch_length) << "input #" << i;
                ASSERT_TRUE(std::all_of(c.since->epoch.begin(), c.since->epoch.end(),
                                        [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; }))
                    << "input #" << i << ": " << shown(text);
            }
            if (c.type == kind::publish) {
                ASSERT_EQ(c.data, expected.cmd.data) << "input #" << i << ": " << shown(text);
            }
            continue;
        }

        auto const& f = r.failure;
        ASSERT_TRUE(f.code) << "input #" << i << ": refused without a code: " << shown(text);
        ASSERT_EQ(f.code.category(), switchboard::error_category()) << "input #" << i;
        ASSERT_TRUE(expected.code) << "input #" << i << " refused with " << name(f.code) << " ("
                                   << f.message << "), the protocol accepts it: " << shown(text);
        ASSERT_EQ(name(f.code), name(*expected.code))
            << "input #" << i << ": " << shown(text);
        ASSERT_FALSE(f.message.empty()) << "input #" << i;
        // The message goes into a JSON error frame: it must be UTF-8 whatever it quotes.
        ASSERT_TRUE(is_valid_utf8(f.message)) << "input #" << i << ": " << shown(f.message) << " for " << shown(text);
        ASSERT_EQ(f.id, expected.id) << "input #" << i << ": " << shown(text);
        if (f.code == error::unknown_type && expected.type.size() > 64 &&
            (static_cast<unsigned char>(expected.type[64]) & 0xC0) == 0x80)
            ++cut_inside_a_character;
        ++refusals[std::string(name(f.code))];
    }
    std::cout << "[          ] accepted " << accepted_count << ", refused:";
    for (auto const& [name, n] : refusals)
        std::cout << ' ' << name << ' ' << n;
    std::cout << "; nested 64 levels " << at_the_depth_limit << ", 65 levels " << one_past_it
              << "; unknown types cut inside a character " << cut_inside_a_character << '\n';

    // The generator is only useful if every answer is common, and if it reaches the edges.
    EXPECT_GT(accepted_count, 15'000u);
    for (std::string_view name : {"invalid_json", "unknown_type", "missing_field", "invalid_topic", "invalid_cursor"})
        EXPECT_GT(refusals[std::string(name)], 1'000u) << name;
    EXPECT_EQ(refusals.size(), 5u);
    EXPECT_GT(at_the_depth_limit, 200u);
    EXPECT_GT(one_past_it, 200u);
    EXPECT_GT(cut_inside_a_character, 200u);
}

}  // namespace
