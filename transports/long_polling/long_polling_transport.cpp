#include "long_polling/long_polling_transport.hpp"

#include "http/http_responses.hpp"
#include "long_polling/poll_channel.hpp"
#include "http/stream_request.hpp"

#include <switchboard/error.hpp>

namespace switchboard::long_polling {

namespace http = boost::beast::http;

namespace {

void poll(detail::channel_services& services, std::shared_ptr<detail::http_connection> const& conn)
{
    detail::stream_request wanted;
    std::string why;
    if (auto ec = detail::parse_stream_request(conn->request(), conn->parameters(), services.options, "cursor",
                                               /*use_last_event_id=*/false, wanted, why))
        return conn->respond_error(ec, why);
    if (!wanted.patterns.empty())
        // Between two polls nothing is subscribed: a pattern's messages in that gap would be lost, unseen,
        // until a cursor can name a pattern's topics (pattern resume).
        return conn->respond_error(error::invalid_pattern,
                                   "long polling does not take patterns yet: a pattern's messages between two "
                                   "polls would be lost until patterns resume; use SSE or WebSocket");
    if (wanted.delta)
        // Every poll is a new channel, so no answer could count on the previous one's message as a base.
        return conn->respond_error(error::bad_request,
                                   "long polling answers full messages: delta updates need a stream (SSE or WebSocket)");
    if (services.stopping)
        return conn->respond_error(error::shutting_down);
    if (conn->request().method() == http::verb::head)
        return conn->respond(detail::response_head(conn->request(), "application/json", "no-store"));

    auto ch = std::make_shared<poll_channel>(conn, services);
    ch->set_identity(conn->identity());
    // The histories read share what one answer may carry: no more is held for it.
    detail::open_stream(
        services, ch, std::move(wanted), services.options.max_poll_bytes,
        [ch](boost::system::error_code ec, std::string const& why) { ch->refuse(ec, why); },
        [ch](std::vector<detail::topic_subscription> done) {
            cursor positions;
            std::vector<message_ptr> replayed;
            bool recovered = true;
            for (auto const& s : done) {
                positions.push_back({s.topic, detail::start_position(s.result)});
                recovered = recovered && s.result.recovered;
                replayed.insert(replayed.end(), s.result.messages.begin(), s.result.messages.end());
            }
            ch->start(std::move(positions), std::move(replayed), recovered);
        });
}

}  // namespace

detail::route make_route(detail::channel_services& services)
{
    return {{http::verb::get}, [&services](std::shared_ptr<detail::http_connection> const& conn) { poll(services, conn); },
            "long-polling"};
}

}  // namespace switchboard::long_polling
