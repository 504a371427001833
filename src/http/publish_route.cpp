#include "http/publish_route.hpp"

#include "http/http_responses.hpp"
#include "core/base64.hpp"
#include "core/json_input.hpp"
#include "channel_services.hpp"
#include "core/client_address.hpp"

#include <switchboard/error.hpp>
#include <switchboard/message.hpp>
#include <switchboard/publish_options.hpp>
#include <switchboard/topic.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string_view>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

// The media type without its parameters, compared as RFC 9110 says: case-insensitively.
bool is_octet_stream(std::string_view content_type)
{
    auto const type = content_type.substr(0, content_type.find(';'));
    auto const end = type.find_last_not_of(" \t");
    std::string_view const bare = end == std::string_view::npos ? std::string_view() : type.substr(0, end + 1);
    constexpr std::string_view octets = "application/octet-stream";
    return bare.size() == octets.size() && std::equal(bare.begin(), bare.end(), octets.begin(), [](char a, char b) {
               return (a | 0x20) == b || a == b;
           });
}

void publish(channel_services& services, std::shared_ptr<exchange> const& conn)
{
    auto& req = conn->request();
    auto const* topic = conn->parameters().find("topic");
    if (!topic)
        return conn->respond_error(error::missing_field, "?topic= is required");
    if (!is_valid_topic(*topic))
        return conn->respond_error(error::invalid_topic);
    // A retry-safe publish: the Idempotency-Key header, else ?idempotency_key= (publish_options.hpp). One present
    // but empty is a mistake, not "no key".
    publish_options options;
    auto const header = req.find("Idempotency-Key");
    auto const* query_key = conn->parameters().find("idempotency_key");
    if (header != req.end() || query_key) {
        options.idempotency_key = header != req.end() ? std::string(header->value()) : *query_key;
        if (!is_valid_idempotency_key(options.idempotency_key))
            return conn->respond_error(error::invalid_idempotency_key);
    }
    // Checked before anything else is spent on it, and kept as it is: the body is the message's data. An
    // application/octet-stream body is bytes: a binary payload, carried as base64 (message.hpp).
    std::string data;
    if (is_octet_stream(req[http::field::content_type])) {
        data = std::string(message::binary_prefix) + base64_encode(req.body());
    } else if (auto why = payload_problem(req.body()); !why.empty()) {
        return conn->respond_error(error::invalid_json, "the body cannot be published: " + why);
    } else {
        data = std::move(req.body());
    }
    std::chrono::milliseconds retry_after{0};
    if (services.authorizer.take_message(nullptr, *conn->identity(), conn->client_ip(), retry_after))
        return conn->respond_rate_limited(retry_after);
    services.authorizer.authorize(
        authorize_request::kind::publish, *topic, conn->identity(), nullptr, conn->remote_address(),
        [&services, conn, topic = *topic, data = std::move(data),
         options = std::move(options)](boost::system::error_code ec, std::string reason) mutable {
            if (ec)
                return conn->respond_error(ec, !reason.empty()              ? reason
                                               : ec == error::forbidden ? "not allowed to publish to " + topic
                                                                        : std::string());
            // A topic the backplane takes on for this publish is the client's (its bound per client).
            auto const address = conn->remote_address();
            auto const charged = services.backplane.on_behalf_of(client_key(*conn->identity(), address));
            services.publish(topic, std::move(data), nullptr, conn->identity(), address,
                             std::move(options),
                             [conn, topic](boost::system::error_code ec, position where, std::string const& reason) {
                                 if (ec)
                                     return conn->respond_error(ec, reason);
                                 nlohmann::ordered_json body = {
                                     {"topic", topic}, {"offset", where.offset}, {"epoch", where.epoch}};
                                 conn->respond(json_response(conn->request(), body.dump()));
                             });
        });
}

}  // namespace

route make_publish_route(channel_services& services)
{
    return {{http::verb::post}, [&services](std::shared_ptr<exchange> const& conn) { publish(services, conn); },
            "publish", true};
}

}  // namespace switchboard::detail
