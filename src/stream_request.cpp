#include "stream_request.hpp"

#include "query.hpp"
#include "server_context.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <algorithm>

namespace switchboard::detail {

std::optional<position> stream_request::since_for(std::string const& topic) const
{
    for (auto const& entry : since)
        if (entry.topic == topic)
            return entry.where;
    return std::nullopt;
}

boost::system::error_code parse_stream_request(http_request const& req, server_context const& ctx,
                                               char const* cursor_param, bool use_last_event_id,
                                               stream_request& out, std::string& message)
{
    std::string_view path;
    query q;
    if (auto ec = parse_target(req.target(), path, q, ctx.max_parameters())) {
        message = "malformed request target, or too many parameters";
        return ec;
    }
    return parse_stream_request(req, q, ctx, cursor_param, use_last_event_id, out, message);
}

boost::system::error_code parse_stream_request(http_request const& req, query const& q, server_context const& ctx,
                                               char const* cursor_param, bool use_last_event_id,
                                               stream_request& out, std::string& message)
{
    out.topics = q.all("topic");
    if (out.topics.empty()) {
        message = "at least one ?topic= is required";
        return error::missing_field;
    }
    if (out.topics.size() > ctx.options.max_subscriptions) {
        message = "at most " + std::to_string(ctx.options.max_subscriptions) + " topics per request";
        return error::too_many_topics;
    }
    for (auto const& topic : out.topics) {
        if (!is_valid_topic(topic)) {
            message = "invalid topic name";
            return error::invalid_topic;
        }
    }
    std::sort(out.topics.begin(), out.topics.end());
    out.topics.erase(std::unique(out.topics.begin(), out.topics.end()), out.topics.end());

    std::string_view text;
    auto const header = use_last_event_id ? req.find("Last-Event-ID") : req.end();
    if (header != req.end())
        text = header->value();
    else if (auto const* param = q.find(cursor_param))
        text = *param;
    if (auto ec = decode_cursor(text, out.since, ctx.options.max_subscriptions)) {
        message = "cursor cannot be read";
        return ec;
    }
    return {};
}

position start_position(history_result const& result)
{
    if (result.messages.empty())
        return result.latest;
    auto const& first = *result.messages.front();
    return {first.offset() - 1, first.epoch()};
}

}  // namespace switchboard::detail
