#include "sse/sse_transport.hpp"

#include "http/http_responses.hpp"
#include "sse/sse_channel.hpp"
#include "http/stream_request.hpp"

#include <switchboard/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace switchboard::sse {

namespace http = boost::beast::http;

namespace {

void subscribe_all(detail::server_context& ctx, std::shared_ptr<sse_channel> const& ch, detail::stream_request const& wanted)
{
    // Subscribe every topic first, then write: the head, one "subscribed" event per topic (its position and
    // whether the cursor could be honoured), the replayed messages, and the cursor as the last event id. Live
    // messages of topics already subscribed wait meanwhile, behind the replay.
    ch->hold();
    // The histories' first pages share half the queue; the channel reads the rest as the client takes it.
    detail::subscribe_topics(ctx, *ch, wanted, ctx.options.max_queue_bytes / 2,
                             [ch](boost::system::error_code ec, std::vector<detail::topic_subscription> done) {
        if (ec)
            return ch->refuse(ec);
        cursor start;
        for (auto const& s : done)
            start.push_back({s.topic, detail::start_position(s.result)});
        ch->start(std::move(start));
        for (auto const& s : done) {
            nlohmann::ordered_json info = {{"type", "subscribed"},       {"topic", s.topic},
                                           {"offset", s.result.latest.offset}, {"epoch", s.result.latest.epoch},
                                           {"recovered", s.result.recovered}};
            ch->send_event("subscribed", info.dump());
        }
        // Replayed messages carry the cursor in their ids; a stream with nothing to replay states it on its own.
        bool const replaying = std::any_of(done.begin(), done.end(), [](auto const& s) { return !s.result.messages.empty(); });
        if (!replaying)
            ch->send_cursor();
        for (auto const& s : done)
            ch->replay(s.result.messages, s.result.latest.offset);
        ch->release();
    });
}

void open(detail::server_context& ctx, std::shared_ptr<detail::http_connection> const& conn)
{
    auto const& req = conn->request();
    detail::stream_request wanted;
    std::string why;
    if (auto ec = detail::parse_stream_request(req, conn->parameters(), ctx, "since", /*use_last_event_id=*/true, wanted, why))
        return conn->respond_error(ec, why);
    if (ctx.stopping)
        return conn->respond_error(error::shutting_down);
    if (req.method() == http::verb::head)
        return conn->respond(detail::response_head(req, "text/event-stream", "no-cache"));

    std::string leftover;  // an EventSource sends nothing after its request
    detail::connection_slot slot;
    auto socket = conn->release(leftover, slot);
    auto ch = std::make_shared<sse_channel>(std::move(socket), std::move(slot), ctx, conn->remote_address());
    ch->set_identity(conn->identity());
    ch->allow_origin(conn->cors_origin());
    if (auto refused = ctx.open(ch))
        return ch->refuse(refused);
    auto topics = wanted.topics;
    ctx.authorize_all(authorize_request::kind::subscribe, std::move(topics), ch->identity_pointer(), ch,
                      ch->remote_address(),
                      [&ctx, ch, wanted = std::move(wanted)](boost::system::error_code ec, std::string const& topic) {
                          if (ch->closing())
                              return;
                          if (ec)
                              return ch->refuse(ec, ec == error::forbidden ? "not allowed to subscribe to " + topic
                                                                           : std::string());
                          subscribe_all(ctx, ch, wanted);
                      });
}

}  // namespace

detail::route make_route(detail::server_context& ctx)
{
    return {{http::verb::get}, [&ctx](std::shared_ptr<detail::http_connection> const& conn) { open(ctx, conn); }, "sse"};
}

}  // namespace switchboard::sse
