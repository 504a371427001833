#include "http/stream_request.hpp"

#include "http/query.hpp"
#include "server_context.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <algorithm>

namespace switchboard::detail {

namespace {

bool topic_before(topic_position const& a, topic_position const& b)
{
    return a.topic < b.topic;
}

}  // namespace

std::optional<position> stream_request::since_for(std::string const& topic) const
{
    auto const it = std::lower_bound(since.begin(), since.end(), topic_position{topic, {}}, topic_before);
    if (it != since.end() && it->topic == topic)
        return it->where;
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
    // Looked up once per topic: sorted, so that a request of thousands of topics costs n log n, not n^2.
    std::sort(out.since.begin(), out.since.end(), topic_before);
    return {};
}

void subscribe_topics(server_context& ctx, channel& ch, stream_request const& wanted, std::size_t max_bytes,
                      std::function<void(boost::system::error_code, std::vector<topic_subscription>)> done)
{
    struct gathering {
        std::vector<topic_subscription> results;
        std::size_t remaining = 0;
        boost::system::error_code failed;
        std::function<void(boost::system::error_code, std::vector<topic_subscription>)> done;
    };
    auto state = std::make_shared<gathering>();
    state->results.resize(wanted.topics.size());
    state->remaining = wanted.topics.size();
    state->done = std::move(done);
    auto self = ch.shared_from_this();
    std::size_t const share = max_bytes / std::max<std::size_t>(1, wanted.topics.size());
    for (std::size_t i = 0; i < wanted.topics.size(); ++i) {
        auto const& topic = wanted.topics[i];
        auto const since = wanted.since_for(topic);
        state->results[i].topic = topic;
        state->results[i].resumed = since.has_value();
        // Authorized already, every topic before any is subscribed.
        ctx.subscribe(ch, topic, since, share, subscribe_queue::authorization::done,
                      [state, self, i](boost::system::error_code ec, history_result result) {
                          if (ec && !state->failed)
                              state->failed = ec;
                          state->results[i].result = std::move(result);
                          if (--state->remaining != 0 || self->closing())
                              return;
                          state->done(state->failed, std::move(state->results));
                      });
    }
}

position start_position(history_result const& result)
{
    if (result.messages.empty())
        return result.latest;
    auto const& first = *result.messages.front();
    return {first.offset() - 1, first.epoch()};
}

}  // namespace switchboard::detail
