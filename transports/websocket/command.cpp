#include "websocket/command.hpp"

#include "core/base64.hpp"
#include "core/json_input.hpp"
#include "core/json_member.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>
#include <switchboard/message.hpp>
#include <switchboard/publish_options.hpp>
#include <switchboard/topic.hpp>

#include <algorithm>
#include <cctype>

namespace switchboard::websocket {
namespace {

std::optional<command> fail(command_error& out, error e, std::string message)
{
    out.code = e;
    out.message = std::move(message);
    return std::nullopt;
}

// At most `max` bytes of `s`, not cutting a UTF-8 character (the parser has checked `s` is UTF-8).
std::string utf8_prefix(std::string const& s, std::size_t max)
{
    if (s.size() <= max)
        return s;
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return s.substr(0, cut);
}

bool is_epoch(std::string const& s)
{
    return s.size() <= max_epoch_length &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

// A "since" of the form {"<number>": unsigned integer, "epoch": string} ("offset" for a topic, "sequence" for a
// pattern); nothing when it is not.
std::optional<position> read_since(nlohmann::json const& since, char const* number)
{
    if (!since.is_object())
        return std::nullopt;
    auto const n = since.find(number);
    auto const epoch = since.find("epoch");
    if (n == since.end() || !n->is_number_unsigned() || epoch == since.end() || !epoch->is_string() ||
        !is_epoch(epoch->get_ref<std::string const&>()))
        return std::nullopt;
    return position{n->get<std::uint64_t>(), epoch->get<std::string>()};
}

// A client id or resume key as the server makes them: 32 lowercase hex digits.
bool is_presence_id(std::string const& s)
{
    return s.size() == 32 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

namespace {

// `binary_bytes`: the command heads a binary frame and these bytes follow it (a publish's data).
std::optional<command> parse(std::string_view text, command_error& failure, std::optional<std::string_view> binary_bytes)
{
    nlohmann::json cmd;
    std::string why;
    if (detail::parse_json(text, cmd, &why))
        return fail(failure, error::invalid_json, std::move(why));
    if (!cmd.is_object())
        return fail(failure, error::invalid_json, "a command is a JSON object");

    command out;
    if (auto it = cmd.find("id"); it != cmd.end() && (it->is_number() || it->is_string())) {
        out.id = *it;
        failure.id = *it;
    }
    auto const type = cmd.find("type");
    if (type == cmd.end() || !type->is_string())
        return fail(failure, error::missing_field, "\"type\" (a string) is required");
    auto const& name = type->get_ref<std::string const&>();
    if (binary_bytes && name != "publish")
        return fail(failure, error::invalid_json, "a binary frame carries a publish command only");
    if (name == "ping") {
        out.type = command::kind::ping;
        return out;
    }
    if (name == "refresh") {
        out.type = command::kind::refresh;
        auto const token = cmd.find("token");
        if (token == cmd.end() || !token->is_string() || token->get_ref<std::string const&>().empty())
            return fail(failure, error::missing_field, "\"token\" (a non-empty string) is required");
        out.token = token->get<std::string>();
        return out;
    }
    if (name == "presence" || name == "presence_stats") {
        out.type = name == "presence" ? command::kind::presence : command::kind::presence_stats;
        if (cmd.contains("pattern"))
            return fail(failure, error::invalid_pattern, "presence is a topic's, not a pattern's");
        auto const topic = cmd.find("topic");
        if (topic == cmd.end() || !topic->is_string())
            return fail(failure, error::missing_field, "\"topic\" (a string) is required");
        out.topic = topic->get<std::string>();
        if (!is_valid_topic(out.topic))
            return fail(failure, error::invalid_topic, "topic must be 1-128 characters of [A-Za-z0-9_.:@/-]");
        if (auto limit = cmd.find("limit"); limit != cmd.end()) {
            if (!limit->is_number_unsigned() || limit->get<std::uint64_t>() == 0)
                return fail(failure, error::invalid_json, R"("limit" is a positive integer)");
            out.limit = static_cast<std::size_t>(std::min<std::uint64_t>(limit->get<std::uint64_t>(), 1u << 30));
        }
        if (auto cursor = cmd.find("cursor"); cursor != cmd.end()) {
            if (!cursor->is_string() || !is_presence_id(cursor->get_ref<std::string const&>()))
                return fail(failure, error::invalid_cursor, R"("cursor" is the "next" of a previous page)");
            out.cursor = cursor->get<std::string>();
        }
        return out;
    }
    if (name == "subscribe")
        out.type = command::kind::subscribe;
    else if (name == "unsubscribe")
        out.type = command::kind::unsubscribe;
    else if (name == "publish")
        out.type = command::kind::publish;
    else
        return fail(failure, error::unknown_type, "unknown command type: " + utf8_prefix(name, 64));

    auto const topic = cmd.find("topic");
    auto const pattern = out.type == command::kind::publish ? cmd.end() : cmd.find("pattern");
    if (pattern != cmd.end()) {
        // A subscription to a pattern (topic.hpp): "pattern" instead of "topic".
        if (topic != cmd.end())
            return fail(failure, error::invalid_json, "a command names a \"topic\" or a \"pattern\", not both");
        if (!pattern->is_string())
            return fail(failure, error::missing_field, "\"pattern\" is a string");
        out.topic = pattern->get<std::string>();
        out.pattern = true;
        if (auto why = pattern_problem(out.topic); !why.empty())
            return fail(failure, error::invalid_pattern, std::move(why));
        if (auto since = cmd.find("since"); out.type == command::kind::subscribe && since != cmd.end()) {
            // A pattern resumes from the backplane's sequence (the "sequence" of the last message it got).
            out.since = read_since(*since, "sequence");
            if (!out.since)
                return fail(failure, error::invalid_cursor,
                            R"(a pattern's "since" must be {"sequence": unsigned integer, "epoch": string})");
        }
        if (auto p = cmd.find("presence"); out.type == command::kind::subscribe && p != cmd.end() && *p != false)
            return fail(failure, error::invalid_pattern,
                        "presence is a topic's, not a pattern's; subscribe to the topic with \"presence\"");
        if (auto delta = cmd.find("delta"); out.type == command::kind::subscribe && delta != cmd.end() && *delta != false)
            return fail(failure, error::invalid_pattern,
                        "delta updates apply to a topic's successive messages, not to a pattern's; subscribe without "
                        "\"delta\"");
        return out;
    }
    if (topic == cmd.end() || !topic->is_string())
        return fail(failure, error::missing_field, "\"topic\" (a string) is required");
    out.topic = topic->get<std::string>();
    if (!is_valid_topic(out.topic))
        return fail(failure, error::invalid_topic, "topic must be 1-128 characters of [A-Za-z0-9_.:@/-]");

    if (auto key = cmd.find("idempotency_key"); out.type == command::kind::publish && key != cmd.end()) {
        if (!key->is_string() || !is_valid_idempotency_key(key->get_ref<std::string const&>()))
            return fail(failure, error::invalid_idempotency_key,
                        R"("idempotency_key" is a string of 1-128 visible ASCII characters ('!' to '~'))");
        out.idempotency_key = key->get<std::string>();
    }
    if (out.type == command::kind::subscribe) {
        if (auto since = cmd.find("since"); since != cmd.end()) {
            out.since = read_since(*since, "offset");
            if (!out.since)
                return fail(failure, error::invalid_cursor,
                            R"("since" must be {"offset": unsigned integer, "epoch": string})");
        }
        if (auto delta = cmd.find("delta"); delta != cmd.end()) {
            if (!delta->is_boolean())
                return fail(failure, error::invalid_json, R"("delta" is true or false)");
            out.delta = delta->get<bool>();
        }
        if (auto p = cmd.find("presence"); p != cmd.end()) {
            if (!p->is_boolean())
                return fail(failure, error::invalid_json, R"("presence" is true or false)");
            out.presence = p->get<bool>();
        }
        if (auto resume = cmd.find("resume"); resume != cmd.end()) {
            if (!out.presence)
                return fail(failure, error::invalid_json, R"("resume" goes with "presence": true)");
            if (!resume->is_string() || !is_presence_id(resume->get_ref<std::string const&>()))
                return fail(failure, error::invalid_cursor, R"("resume" is the "resume" key of a presence ack)");
            out.resume = resume->get<std::string>();
        }
    } else if (out.type == command::kind::publish && binary_bytes) {
        if (cmd.contains("data"))
            return fail(failure, error::invalid_json,
                        "a binary frame's command has no \"data\": the bytes after its line feed are the data");
        out.data = std::string(message::binary_prefix) + detail::base64_encode(*binary_bytes);
    } else if (out.type == command::kind::publish) {
        // The data is passed on as the client wrote it: its text is cut out of the command, not re-serialized.
        auto const data = detail::find_member(text, "data");
        if (data.count == 0)
            return fail(failure, error::missing_field, "\"data\" is required");
        if (data.count > 1)
            return fail(failure, error::invalid_json, "\"data\" appears more than once");
        if (auto problem = detail::raw_cr_problem(data.value); !problem.empty())
            return fail(failure, error::invalid_json, "\"data\" cannot be published: " + problem);
        out.data = data.value;
    }
    return out;
}

}  // namespace

std::optional<command> parse_command(std::string_view text, command_error& failure)
{
    return parse(text, failure, std::nullopt);
}

std::optional<command> parse_binary_command(std::string_view frame, command_error& failure)
{
    auto const line_end = frame.find('\n');
    if (line_end == std::string_view::npos)
        return fail(failure, error::invalid_json,
                    "a binary frame starts with a publish command (JSON) and a line feed, then the bytes");
    return parse(frame.substr(0, line_end), failure, frame.substr(line_end + 1));
}

}  // namespace switchboard::websocket
