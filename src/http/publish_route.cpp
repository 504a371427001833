#include "http/publish_route.hpp"

#include "http/http_responses.hpp"
#include "core/json_input.hpp"
#include "channel_services.hpp"
#include "core/client_address.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <nlohmann/json.hpp>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

void publish(channel_services& services, std::shared_ptr<http_connection> const& conn)
{
    auto& req = conn->request();
    auto const* topic = conn->parameters().find("topic");
    if (!topic)
        return conn->respond_error(error::missing_field, "?topic= is required");
    if (!is_valid_topic(*topic))
        return conn->respond_error(error::invalid_topic);
    // Checked before anything else is spent on it, and kept as it is: the body is the message's data.
    if (auto why = payload_problem(req.body()); !why.empty())
        return conn->respond_error(error::invalid_json, "the body cannot be published: " + why);
    std::chrono::milliseconds retry_after{0};
    if (services.authorizer.take_message(nullptr, *conn->identity(), conn->client_ip(), retry_after))
        return conn->respond_rate_limited(retry_after);
    services.authorizer.authorize(
        authorize_request::kind::publish, *topic, conn->identity(), nullptr, conn->remote_address(),
        [&services, conn, topic = *topic, data = std::move(req.body())](boost::system::error_code ec) mutable {
            if (ec)
                return conn->respond_error(ec, ec == error::forbidden ? "not allowed to publish to " + topic
                                                                      : std::string());
            // A topic the backplane takes on for this publish is the client's (its bound per client).
            auto const charged = services.backplane.on_behalf_of(client_key(*conn->identity(), conn->remote_address()));
            services.publish(topic, std::move(data), nullptr, conn->remote_address(),
                             [conn, topic](boost::system::error_code ec, position where) {
                                 if (ec)
                                     return conn->respond_error(ec);
                                 nlohmann::ordered_json body = {
                                     {"topic", topic}, {"offset", where.offset}, {"epoch", where.epoch}};
                                 conn->respond(json_response(conn->request(), body.dump()));
                             });
        });
}

}  // namespace

route make_publish_route(channel_services& services)
{
    return {{http::verb::post}, [&services](std::shared_ptr<http_connection> const& conn) { publish(services, conn); }, "publish"};
}

}  // namespace switchboard::detail
