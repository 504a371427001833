#include "sse/sse_transport.hpp"

#include "http/http_responses.hpp"
#include "sse/sse_channel.hpp"
#include "http/stream_request.hpp"

#include <switchboard/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <memory>

namespace switchboard::sse {

namespace http = boost::beast::http;

namespace {

// Writes what a stream starts with, once every topic is subscribed: the head, one "subscribed" event per topic
// (its position and whether the cursor could be honoured), the replayed messages, and the cursor as the last
// event id. Live messages of topics already subscribed wait meanwhile (hold()), behind the replay.
void start(sse_channel& ch, std::vector<detail::topic_subscription> const& done,
           std::vector<detail::pattern_subscription> const& patterns, bool presence)
{
    cursor positions;
    for (auto const& s : done)
        positions.push_back({s.topic, detail::start_position(s.result)});
    // A pattern's entry holds the backplane's sequence: its messages move it (sse_channel::write_message).
    for (auto const& p : patterns)
        positions.push_back({p.pattern, detail::start_position(p)});
    ch.start(std::move(positions));
    for (auto const& s : done) {
        nlohmann::ordered_json info = {{"type", "subscribed"},       {"topic", s.topic},
                                       {"offset", s.result.latest.offset}, {"epoch", s.result.latest.epoch},
                                       {"recovered", s.result.recovered}};
        if (s.server)
            info["server"] = true;  // the client did not ask: its identity did (identity::topics)
        if (presence)
            info["presence"] = {{"client", ch.presence_client()}, {"resume", ch.presence_key()}};
        ch.send_event("subscribed", info.dump());
    }
    for (auto const& p : patterns) {
        nlohmann::ordered_json info = {{"type", "subscribed"},
                                       {"pattern", p.pattern},
                                       {"sequence", p.result.latest.offset},
                                       {"epoch", p.result.latest.epoch},
                                       {"recovered", p.since ? p.result.recovered : true}};
        if (!p.result.lost.empty())
            info["lost"] = p.result.lost;
        ch.send_event("subscribed", info.dump());
    }
    // Replayed messages carry the cursor in their ids; a stream with nothing to replay states it on its own.
    bool const replaying = std::any_of(done.begin(), done.end(), [](auto const& s) { return !s.result.messages.empty(); });
    if (!replaying)
        ch.send_cursor();
    for (auto const& s : done)
        ch.replay(s.result.messages, s.result.latest.offset);
    for (auto const& p : patterns) {
        if (p.since)
            ch.replay_pattern(p.pattern, *p.since, p.result);
        else
            ch.pattern_started(p.pattern, p.result.latest.offset);
    }
    ch.release();
}

void open(detail::channel_services& services, std::shared_ptr<detail::exchange> const& conn)
{
    auto const& req = conn->request();
    detail::stream_request wanted;
    std::string why;
    if (auto ec = detail::parse_stream_request(req, conn->parameters(), services.options, conn->identity()->topics,
                                               "since", /*use_last_event_id=*/true, wanted, why))
        return conn->respond_error(ec, why);
    if (services.stopping)
        return conn->respond_error(error::shutting_down);
    if (req.method() == http::verb::head)
        return conn->respond(detail::response_head(req, "text/event-stream", "no-cache"));
    if (auto ec = conn->admit_channel())
        return conn->respond_error(ec);
    std::shared_ptr<sse_channel> ch;
    if (auto* http1 = conn->http1()) {
        std::string leftover;  // an EventSource sends nothing after its request
        detail::connection_slot slot;
        auto socket = http1->release(leftover, slot);
        ch = std::make_shared<sse_channel>(std::move(socket), std::move(slot), services, conn->packed_remote_address());
    } else {
        // An HTTP/2 stream: the channel's events leave as its DATA frames; the connection and its other streams
        // go on beside it.
        ch = std::make_shared<sse_channel>(conn->push_io(), services, conn->packed_remote_address());
    }
    ch->set_identity(conn->identity());
    ch->allow_origin(conn->cors_origin());
    ch->hold();  // nothing is written before start()
    if (wanted.delta)
        ch->send_deltas(wanted.topics);
    bool const presence = wanted.presence;  // read before `wanted` moves into open_stream
    // The histories' first pages share half the queue; the channel reads the rest as the client takes it.
    detail::open_stream(
        services, ch, std::move(wanted), services.options.max_queue_bytes / 2,
        [ch](boost::system::error_code ec, std::string const& why) { ch->refuse(ec, why); },
        [ch, presence](std::vector<detail::topic_subscription> done, std::vector<detail::pattern_subscription> patterns) {
            start(*ch, done, patterns, presence);
        });
}

// The admin view's stream of figures: an SSE channel that no topic reaches.
class figures_stream final : public detail::event_stream {
public:
    explicit figures_stream(std::shared_ptr<sse_channel> ch) : ch_(std::move(ch)) {}

    void send_event(std::string_view type, std::string const& json) override { ch_->send_event(type, json); }
    bool ended() const noexcept override { return ch_->closing(); }
    void end(disconnect const& reason) override { ch_->close(reason); }

private:
    // Owned here: no registry holds this channel, and a parked stream has no pending operation to hold it
    // either (an SSE stream parks once its head is out). The admin view lets go of it once it has ended.
    std::shared_ptr<sse_channel> ch_;
};

}  // namespace

detail::route make_route(detail::channel_services& services)
{
    return {{http::verb::get}, [&services](std::shared_ptr<detail::exchange> const& conn) { open(services, conn); },
            "sse"};
}

std::shared_ptr<detail::event_stream> open_event_stream(detail::channel_services& services,
                                                        std::shared_ptr<detail::exchange> const& conn)
{
    std::shared_ptr<sse_channel> ch;
    if (auto* http1 = conn->http1()) {
        std::string leftover;
        detail::connection_slot slot;
        auto socket = http1->release(leftover, slot);
        ch = std::make_shared<sse_channel>(std::move(socket), std::move(slot), services, conn->packed_remote_address());
    } else {
        ch = std::make_shared<sse_channel>(conn->push_io(), services, conn->packed_remote_address());
    }
    ch->start({});
    return std::make_shared<figures_stream>(ch);
}

}  // namespace switchboard::sse
