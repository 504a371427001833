#include "long_polling/long_polling_transport.hpp"

#include "http/http_responses.hpp"
#include "long_polling/poll_channel.hpp"
#include "http/stream_request.hpp"

#include <switchboard/error.hpp>

#include <algorithm>

namespace switchboard::long_polling {

namespace http = boost::beast::http;

namespace {

// Starts `ch` from what its subscriptions' histories gave.
void start(poll_channel& ch, std::vector<detail::topic_subscription> const& done,
           std::vector<detail::pattern_subscription> const& patterns)
{
    cursor positions;
    std::vector<message_ptr> replayed;
    poll_channel::pattern_limits limits;
    bool recovered = true;
    std::vector<std::string> lost;
    for (auto const& s : done) {
        positions.push_back({s.topic, detail::start_position(s.result)});
        recovered = recovered && s.result.recovered;
        replayed.insert(replayed.end(), s.result.messages.begin(), s.result.messages.end());
    }
    // Between two polls nothing is subscribed: each pattern's entry in the cursor holds the sequence the
    // next poll reads its history from.
    std::vector<message_ptr> matched;
    for (auto const& p : patterns) {
        positions.push_back({p.pattern, detail::start_position(p)});
        if (!p.since)
            continue;
        recovered = recovered && p.result.recovered;
        lost.insert(lost.end(), p.result.lost.begin(), p.result.lost.end());
        matched.insert(matched.end(), p.result.messages.begin(), p.result.messages.end());
        // A first page only: this answer goes no further than it (the next poll reads on).
        if (p.result.more)
            limits.push_back({p.pattern, p.result.messages.back()->sequence()});
    }
    // One sequence order across the patterns (a message two of them match once), so that an entry never
    // moves past a message of its pattern still to come.
    std::stable_sort(matched.begin(), matched.end(),
                     [](message_ptr const& a, message_ptr const& b) { return a->sequence() < b->sequence(); });
    matched.erase(std::unique(matched.begin(), matched.end(),
                              [](message_ptr const& a, message_ptr const& b) {
                                  return a->sequence() == b->sequence();
                              }),
                  matched.end());
    replayed.insert(replayed.end(), matched.begin(), matched.end());
    std::sort(positions.begin(), positions.end(),
              [](topic_position const& a, topic_position const& b) { return a.topic < b.topic; });
    ch.start(std::move(positions), std::move(replayed), recovered, std::move(limits), std::move(lost));
}

void poll(detail::channel_services& services, std::shared_ptr<detail::exchange> const& conn)
{
    detail::stream_request wanted;
    std::string why;
    if (auto ec = detail::parse_stream_request(conn->request(), conn->parameters(), services.options,
                                               conn->identity()->topics, "cursor",
                                               /*use_last_event_id=*/false, wanted, why))
        return conn->respond_error(ec, why);
    if (wanted.delta)
        // Every poll is a new channel, so no answer could count on the previous one's message as a base.
        return conn->respond_error(error::bad_request,
                                   "long polling answers full messages: delta updates need a stream (SSE or WebSocket)");
    if (services.stopping)
        return conn->respond_error(error::shutting_down);
    if (conn->request().method() == http::verb::head)
        return conn->respond(detail::response_head(conn->request(), "application/json", "no-store"));

    auto ch = std::make_shared<poll_channel>(conn);
    ch->set_identity(conn->identity());
    // With presence=1 a member across polls: each poll's channel takes the membership over from the one before,
    // which the reconnect grace keeps between them (docs/protocol.md, "Presence", long polling). The histories
    // read share what one answer may carry: no more is held for it.
    detail::open_stream(
        services, ch, std::move(wanted), services.options.max_poll_bytes,
        [ch](boost::system::error_code ec, std::string const& why) { ch->refuse(ec, why); },
        [ch](std::vector<detail::topic_subscription> done, std::vector<detail::pattern_subscription> patterns) {
            start(*ch, done, patterns);
        });
}

}  // namespace

detail::route make_route(detail::channel_services& services)
{
    return {{http::verb::get}, [&services](std::shared_ptr<detail::exchange> const& conn) { poll(services, conn); },
            "long-polling"};
}

}  // namespace switchboard::long_polling
