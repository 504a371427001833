#include "backplanes/redis/redis_codec.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <memory>

namespace switchboard::redis {

namespace {

template <class Number>
bool number(std::string_view f, Number& v)
{
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    return ec == std::errc{} && end == f.data() + f.size();
}

/// An integer reply, or a string of one (Lua numbers come back as integers, HGET values as strings).
std::int64_t integer(redisReply const* r)
{
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    std::int64_t v = 0;
    if (r->type == REDIS_REPLY_STRING)
        std::from_chars(r->str, r->str + r->len, v);
    return v;
}

}  // namespace

namespace {

pattern_reply finish(pattern_reply& out, std::uint64_t past, std::uint64_t since)
{
    // Topics the index let go after `since` cannot be named: their messages may be gone.
    out.result.recovered = out.result.lost.empty() && past <= since;
    return std::move(out);
}

}  // namespace

std::string_view text(redisReply const* r)
{
    return {r->str, static_cast<std::size_t>(r->len)};
}

bool is_error(redisReply const* r)
{
    return !r || r->type == REDIS_REPLY_ERROR;
}

std::optional<entry> parse_entry(std::string_view s)
{
    auto field = [&s](std::string_view& f) {
        auto space = s.find(' ');
        if (space == std::string_view::npos)
            return false;
        f = s.substr(0, space);
        s.remove_prefix(space + 1);
        return true;
    };
    entry out;
    std::string_view offset, at;
    if (!field(offset) || !field(out.epoch) || !field(at))
        return std::nullopt;
    if (!number(offset, out.offset) || !number(at, out.at_ms))
        return std::nullopt;
    auto const rest = s;
    std::string_view sequence, previous;
    if (!field(sequence) || !field(previous) || !number(sequence, out.sequence) || !number(previous, out.previous)) {
        // An entry of an older version: the rest is the data.
        s = rest;
        out.sequence = out.previous = 0;
    }
    out.data = s;
    if (out.data.empty())
        return std::nullopt;
    return out;
}

std::optional<position> publish_reply(redisReply const* r)
{
    if (is_error(r) || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
        return std::nullopt;
    return position{static_cast<std::uint64_t>(integer(r->element[0])), std::string(text(r->element[1]))};
}

std::optional<history_result> history_reply(std::string const& topic, std::optional<position> const& since,
                                            std::chrono::seconds max_age, std::size_t max_bytes, redisReply const* r)
{
    if (is_error(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 4 || r->element[3]->type != REDIS_REPLY_ARRAY)
        return std::nullopt;
    history_result out;
    out.latest = {static_cast<std::uint64_t>(integer(r->element[0])), std::string(text(r->element[1]))};
    if (!since)
        return out;
    bool const same_epoch = since->epoch.empty() ? since->offset == 0 : since->epoch == out.latest.epoch;
    if (!same_epoch || since->offset > out.latest.offset) {
        out.recovered = false;
        return out;
    }
    auto const now_ms = integer(r->element[2]);
    auto const oldest_ms = now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(max_age).count();
    auto const* entries = r->element[3];
    std::size_t bytes = 0;  // of the page's envelopes
    // Oldest first. Only a run of consecutive offsets of the current epoch is history: Redis may have evicted
    // or trimmed the list, or kept one of an epoch before its position was lost; whatever is not there is
    // reported (recovered:false), never skipped silently.
    for (std::size_t i = 0; i < entries->elements; ++i) {
        auto const* element = entries->element[i];
        auto const e = element->type == REDIS_REPLY_STRING ? parse_entry(text(element)) : std::nullopt;
        if (!e || e->epoch != out.latest.epoch || e->offset <= since->offset || e->offset > out.latest.offset ||
            e->at_ms < oldest_ms)
            continue;
        if (!out.messages.empty() && e->offset != out.messages.back()->offset() + 1)
            break;
        auto m = std::make_shared<message const>(topic, position{e->offset, out.latest.epoch}, e->data, e->sequence);
        bytes += m->envelope()->size();
        if (!out.messages.empty() && bytes > max_bytes)
            break;  // the page is full; the reader asks for the rest after its last message
        out.messages.push_back(std::move(m));
    }
    std::uint64_t const first = out.messages.empty() ? out.latest.offset + 1 : out.messages.front()->offset();
    out.recovered = first == since->offset + 1;
    return out;
}

message_ptr live_message(std::string const& topic, std::string_view payload)
{
    auto const e = parse_entry(payload);
    if (!e)
        return nullptr;
    return std::make_shared<message const>(topic, position{e->offset, std::string(e->epoch)}, e->data, e->sequence);
}

std::optional<pattern_reply> pattern_history_reply(std::optional<position> const& since, std::size_t max_bytes,
                                                   redisReply const* r)
{
    // {sequence, epoch, past, status, lost topics, {topic, entry, ...} in sequence order, more}
    if (is_error(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 7 ||
        r->element[4]->type != REDIS_REPLY_ARRAY || r->element[5]->type != REDIS_REPLY_ARRAY ||
        r->element[5]->elements % 2 != 0)
        return std::nullopt;
    pattern_reply out;
    auto& result = out.result;
    result.latest = {static_cast<std::uint64_t>(integer(r->element[0])), std::string(text(r->element[1]))};
    if (!since)
        return out;
    auto const past = static_cast<std::uint64_t>(integer(r->element[2]));
    auto const status = integer(r->element[3]);
    if (status == 1) {
        out.too_many_topics = true;
        return out;
    }
    if (status != 0) {  // another epoch, or a sequence this one has not reached
        result.recovered = false;
        return out;
    }
    for (std::size_t i = 0; i < r->element[4]->elements; ++i)
        if (r->element[4]->element[i]->type == REDIS_REPLY_STRING)
            result.lost.emplace_back(text(r->element[4]->element[i]));
    auto const* page = r->element[5];
    std::size_t bytes = 0;
    for (std::size_t i = 0; i + 1 < page->elements; i += 2) {
        auto const* topic = page->element[i];
        auto const* element = page->element[i + 1];
        auto const e = element->type == REDIS_REPLY_STRING ? parse_entry(text(element)) : std::nullopt;
        if (topic->type != REDIS_REPLY_STRING || !e || e->sequence <= since->offset)
            return std::nullopt;  // the script sends only entries it parsed, after `since`
        if (!result.messages.empty() && e->sequence <= result.messages.back()->sequence())
            return std::nullopt;  // ... in sequence order
        auto m = std::make_shared<message const>(std::string(text(topic)), position{e->offset, std::string(e->epoch)},
                                                 e->data, e->sequence);
        bytes += m->envelope()->size();
        if (!result.messages.empty() && bytes > max_bytes) {
            result.more = true;  // the page is full; the reader asks for the rest after its last message
            return finish(out, past, since->offset);
        }
        result.messages.push_back(std::move(m));
    }
    result.more = integer(r->element[6]) != 0;
    return finish(out, past, since->offset);
}

std::string redis_names::key(std::string_view topic, std::string_view what) const
{
    std::string out;
    out.reserve(prefix.size() + topic.size() + what.size() + 3);
    out.append(prefix).append("{").append(topic).append("}.").append(what);
    return out;
}

std::string redis_names::channel(std::string_view topic) const
{
    return prefix + std::string(topic);
}

std::string redis_names::glob(std::string_view pattern) const
{
    std::string out;
    out.reserve(prefix.size() + pattern.size() + 4);
    auto const literal = [&out](std::string_view text) {
        for (char c : text) {
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
                out += '\\';
            out += c;
        }
    };
    literal(prefix);
    for (std::size_t from = 0; from <= pattern.size();) {
        auto const dot = std::min(pattern.find('.', from), pattern.size());
        auto const token = pattern.substr(from, dot - from);
        if (token == "*" || token == ">")
            out += '*';
        else
            literal(token);
        if (dot == pattern.size())
            break;
        out += '.';
        from = dot + 1;
    }
    return out;
}

std::optional<std::string_view> redis_names::topic_of(std::string_view channel) const
{
    if (!channel.starts_with(prefix))
        return std::nullopt;
    return channel.substr(prefix.size());
}

}  // namespace switchboard::redis
