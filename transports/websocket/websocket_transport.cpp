#include "websocket/websocket_transport.hpp"

#include "http_responses.hpp"
#include "websocket/websocket_channel.hpp"

#include <switchboard/error.hpp>

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <spdlog/spdlog.h>

namespace switchboard::websocket {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct handshake {
    beast::websocket::stream<boost::asio::ip::tcp::socket> ws;
    http_request request;
    std::string leftover;
    std::string remote_address;

    handshake(boost::asio::ip::tcp::socket s, http_request req, std::string left, std::string remote)
        : ws(std::move(s)), request(std::move(req)), leftover(std::move(left)), remote_address(std::move(remote))
    {
    }
};

void upgrade(detail::server_context& ctx, std::shared_ptr<detail::http_connection> const& conn)
{
    auto& req = conn->request();
    if (!beast::websocket::is_upgrade(req))
        return conn->respond(detail::error_response(req, error::bad_request, "expected a WebSocket upgrade"));
    if (ctx.stopping)
        return conn->respond_error(error::shutting_down);

    std::string leftover;
    auto socket = conn->release(leftover);
    auto hs = std::make_shared<handshake>(std::move(socket), std::move(req), std::move(leftover), conn->remote_address());
    hs->ws.set_option(beast::websocket::stream_base::decorator(
        [](beast::websocket::response_type& res) { res.set(http::field::server, "switchboard"); }));
    hs->ws.async_accept(hs->request, [&ctx, hs](beast::error_code ec) {
        if (ec) {
            spdlog::debug("websocket handshake from {} failed: {}", hs->remote_address, ec.message());
            return;
        }
        // The handshake is done; from here on the socket speaks our own framing.
        auto ch = std::make_shared<websocket_channel>(std::move(hs->ws.next_layer()), ctx, hs->remote_address);
        if (auto refused = ctx.open(ch)) {
            ch->start({});  // to see the peer's EOF after our close frame
            ch->close(disconnect{refused == error::shutting_down ? std::uint16_t{1001} : std::uint16_t{4500},
                                 std::string(error_name(refused))});
            return;
        }
        ch->start(hs->leftover);
    });
}

}  // namespace

detail::route make_route(detail::server_context& ctx)
{
    return {{http::verb::get}, [&ctx](std::shared_ptr<detail::http_connection> const& conn) { upgrade(ctx, conn); }};
}

}  // namespace switchboard::websocket
