#include "long_polling/long_polling_transport.hpp"

#include "http/http_responses.hpp"
#include "long_polling/poll_channel.hpp"
#include "http/stream_request.hpp"

#include <switchboard/error.hpp>

namespace switchboard::long_polling {

namespace http = boost::beast::http;

namespace {

void subscribe_all(detail::server_context& ctx, std::shared_ptr<poll_channel> const& ch,
                   detail::stream_request const& wanted);

void poll(detail::server_context& ctx, std::shared_ptr<detail::http_connection> const& conn)
{
    detail::stream_request wanted;
    std::string why;
    if (auto ec = detail::parse_stream_request(conn->request(), conn->parameters(), ctx, "cursor", /*use_last_event_id=*/false, wanted, why))
        return conn->respond_error(ec, why);
    if (ctx.stopping)
        return conn->respond_error(error::shutting_down);
    if (conn->request().method() == http::verb::head)
        return conn->respond(detail::response_head(conn->request(), "application/json", "no-store"));

    auto ch = std::make_shared<poll_channel>(conn, ctx);
    ch->set_identity(conn->identity());
    if (auto refused = ctx.open(ch))
        return conn->respond_error(refused);
    auto topics = wanted.topics;
    ctx.authorize_all(authorize_request::kind::subscribe, std::move(topics), ch->identity_pointer(), ch,
                      ch->remote_address(),
                      [&ctx, ch, wanted = std::move(wanted)](boost::system::error_code ec, std::string const& topic) {
                          if (ch->closing())
                              return;  // answered meanwhile (the server is stopping)
                          if (ec)
                              return ch->refuse(ec, ec == error::forbidden ? "not allowed to subscribe to " + topic
                                                                           : std::string());
                          subscribe_all(ctx, ch, wanted);
                      });
}

void subscribe_all(detail::server_context& ctx, std::shared_ptr<poll_channel> const& ch,
                   detail::stream_request const& wanted)
{
    // The histories read share what one answer may carry: no more is held for it.
    detail::subscribe_topics(ctx, *ch, wanted, ctx.options.max_poll_bytes,
                             [ch](boost::system::error_code ec, std::vector<detail::topic_subscription> done) {
        if (ec)
            return ch->refuse(ec);
        cursor positions;
        std::vector<message_ptr> backlog;
        bool recovered = true;
        for (auto const& s : done) {
            positions.push_back({s.topic, detail::start_position(s.result)});
            recovered = recovered && s.result.recovered;
            backlog.insert(backlog.end(), s.result.messages.begin(), s.result.messages.end());
        }
        ch->start(std::move(positions), std::move(backlog), recovered);
    });
}

}  // namespace

detail::route make_route(detail::server_context& ctx)
{
    return {{http::verb::get}, [&ctx](std::shared_ptr<detail::http_connection> const& conn) { poll(ctx, conn); }, "long-polling"};
}

}  // namespace switchboard::long_polling
