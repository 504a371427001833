#include "ops/api_routes.hpp"

#include "core/json_input.hpp"
#include "core/json_member.hpp"
#include "http/http_responses.hpp"
#include "http/query.hpp"
#include "http/request_token.hpp"
#include "ops/api.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <nlohmann/json.hpp>

#include <charconv>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

using exchange_ptr = std::shared_ptr<exchange>;

// History pages: `limit` messages at most (100 unless asked), read within this many bytes of envelopes.
constexpr std::size_t default_history_limit = 100;
constexpr std::size_t max_history_limit = 1000;
constexpr std::size_t history_page_bytes = 1024 * 1024;

std::optional<std::uint64_t> number(std::string_view text)
{
    std::uint64_t v = 0;
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return v;
}

std::string json_string(std::string_view s)
{
    return nlohmann::json(s).dump();
}

void answer(exchange_ptr const& conn, std::string body)
{
    conn->respond(json_response(conn->request(), std::move(body)));
}

// The request's JSON object, or an answered error (null).
std::optional<nlohmann::json> body_object(exchange_ptr const& conn)
{
    nlohmann::json j;
    std::string why;
    if (parse_json(conn->request().body(), j, &why) || !j.is_object()) {
        conn->respond_error(error::invalid_json, why.empty() ? "the body must be a JSON object" : why);
        return std::nullopt;
    }
    return j;
}

// "code" (3000-3999, the application's ranges) and "reason", else the operator's 4006; or an answered error.
std::optional<disconnect> requested_disconnect(exchange_ptr const& conn, nlohmann::json const& body)
{
    if (!body.contains("code") && !body.contains("reason"))
        return disconnect::by_operator();
    auto const code = body.value("code", nlohmann::json(4006));
    bool const chosen = body.contains("code");  // else the operator's 4006, with the reason given
    if (!code.is_number_unsigned() ||
        (chosen && (code.get<std::uint64_t>() < 3000 || code.get<std::uint64_t>() > 3999))) {
        conn->respond_error(error::bad_request, "code must be an application close code, 3000-3999");
        return std::nullopt;
    }
    auto const reason = body.value("reason", nlohmann::json("disconnected by the operator"));
    if (!reason.is_string() || reason.get_ref<std::string const&>().size() > 123) {
        conn->respond_error(error::bad_request, "reason must be a string that fits a WebSocket close frame: 123 bytes");
        return std::nullopt;
    }
    return disconnect{static_cast<std::uint16_t>(code.get<std::uint64_t>()), reason.get<std::string>()};
}

void broadcast_route(server_context& ctx, exchange_ptr const& conn)
{
    auto const body = body_object(conn);
    if (!body)
        return;
    auto const topics = body->find("topics");
    if (topics == body->end() || !topics->is_array() || topics->empty())
        return conn->respond_error(error::missing_field, "\"topics\" must be a non-empty array of topic names");
    if (topics->size() > max_broadcast_topics)
        return conn->respond_error(error::too_many_topics, "at most " + std::to_string(max_broadcast_topics) +
                                                               " topics in one broadcast");
    std::vector<std::string> names;
    for (auto const& t : *topics) {
        if (!t.is_string())
            return conn->respond_error(error::missing_field, "\"topics\" must hold strings");
        names.push_back(t.get<std::string>());
    }
    // The data's own bytes, never serialized again: subscribers get what the caller wrote.
    auto const data = find_member(conn->request().body(), "data");
    if (data.count == 0)
        return conn->respond_error(error::missing_field, "\"data\" is required");
    if (auto why = raw_cr_problem(data.value); !why.empty())
        return conn->respond_error(error::invalid_json, "\"data\" cannot be published: " + why);
    // Retry-safe (publish_options.hpp): "idempotency_key" in the body, else the Idempotency-Key header.
    publish_options publishing;
    if (auto const k = body->find("idempotency_key"); k != body->end()) {
        if (!k->is_string())
            return conn->respond_error(error::invalid_idempotency_key);
        publishing.idempotency_key = k->get<std::string>();
    } else if (auto const h = conn->request().find("Idempotency-Key"); h != conn->request().end()) {
        publishing.idempotency_key = std::string(h->value());
    }
    if (!publishing.idempotency_key.empty() && !is_valid_idempotency_key(publishing.idempotency_key))
        return conn->respond_error(error::invalid_idempotency_key);
    broadcast(ctx, names, std::string(data.value), publishing, [conn](std::vector<broadcast_result> results) {
        std::string out = R"({"results":[)";
        for (std::size_t n = 0; n < results.size(); ++n) {
            auto const& r = results[n];
            out += n ? ",{" : "{";
            out += R"("topic":)" + json_string(r.topic);
            if (r.error)
                out += R"(,"error":)" + error_body(r.error);
            else
                out += R"(,"offset":)" + std::to_string(r.where.offset) + R"(,"epoch":)" + json_string(r.where.epoch);
            out += "}";
        }
        answer(conn, out + "]}");
    });
}

void history_route(server_context& ctx, exchange_ptr const& conn)
{
    auto const& q = conn->parameters();
    auto const* topic = q.find("topic");
    if (!topic)
        return conn->respond_error(error::missing_field, "?topic= is required");
    if (!is_valid_topic(*topic))
        return conn->respond_error(error::invalid_topic);
    std::optional<position> since;
    if (auto const* s = q.find("since")) {
        auto const offset = number(*s);
        if (!offset)
            return conn->respond_error(error::invalid_cursor, "since must be an offset");
        auto const* epoch = q.find("epoch");
        since = position{*offset, epoch ? *epoch : std::string()};
    }
    std::size_t limit = default_history_limit;
    if (auto const* l = q.find("limit")) {
        auto const n = number(*l);
        if (!n || *n < 1 || *n > max_history_limit)
            return conn->respond_error(error::bad_request,
                                       "limit must be 1-" + std::to_string(max_history_limit) + " messages");
        limit = static_cast<std::size_t>(*n);
    }
    ctx.backplane.history(*topic, since, history_page_bytes,
                          [conn, limit, topic = *topic](boost::system::error_code ec, history_result h) {
                              if (ec)
                                  return conn->respond_error(ec);
                              if (h.messages.size() > limit)
                                  h.messages.resize(limit);
                              std::string out = R"({"topic":)" + json_string(topic) + R"(,"messages":[)";
                              for (std::size_t n = 0; n < h.messages.size(); ++n) {
                                  auto const& m = *h.messages[n];
                                  out += n ? ",{" : "{";
                                  out += R"("offset":)" + std::to_string(m.offset()) + R"(,"epoch":)" + json_string(m.epoch());
                                  if (m.binary())
                                      out += R"(,"encoding":"base64")";
                                  out += R"(,"data":)";
                                  out += m.data();
                                  out += "}";
                              }
                              bool const more = !h.messages.empty() && h.messages.back()->offset() < h.latest.offset;
                              out += R"(],"latest":{"offset":)" + std::to_string(h.latest.offset) + R"(,"epoch":)" +
                                     json_string(h.latest.epoch) + R"(},"recovered":)" + (h.recovered ? "true" : "false") +
                                     R"(,"more":)" + (more ? "true" : "false");
                              if (more)
                                  out += R"(,"next":)" + std::to_string(h.messages.back()->offset());
                              answer(conn, out + "}");
                          });
}

void channels_route(server_context& ctx, exchange_ptr const& conn)
{
    auto const* user = conn->parameters().find("user");
    if (!user || user->empty())
        return conn->respond_error(error::missing_field, "?user= is required (anonymous clients have no user)");
    channels_of_user(ctx, *user, [conn](std::vector<channel_info> channels) {
        nlohmann::ordered_json out = {{"channels", nlohmann::json::array()}};
        for (auto const& c : channels)
            out["channels"].push_back({{"id", c.id},
                                       {"transport", c.transport},
                                       {"remote_address", c.remote_address},
                                       {"user", c.user},
                                       {"topics", c.topics},
                                       {"patterns", c.patterns}});
        answer(conn, out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
}

void disconnect_route(server_context& ctx, exchange_ptr const& conn)
{
    auto const body = body_object(conn);
    if (!body)
        return;
    auto const reason = requested_disconnect(conn, *body);
    if (!reason)
        return;
    auto const reply = [conn](std::size_t n) {
        answer(conn, R"({"disconnected":)" + std::to_string(n) + "}");
    };
    // An empty user would be every anonymous client: refused, as a mistake more likely than the intent.
    if (auto const user = body->find("user"); user != body->end() && user->is_string() && !user->get_ref<std::string const&>().empty())
        return disconnect_user(ctx, user->get<std::string>(), *reason, reply);
    auto const id = body->find("channel");
    if (id == body->end() || !id->is_number_unsigned())
        return conn->respond_error(error::missing_field, "\"user\" (a string) or \"channel\" (an id) is required");
    disconnect_channel(ctx, id->get<std::uint64_t>(), *reason, [conn, reply, id = id->get<std::uint64_t>()](std::size_t n) {
        if (n == 0)
            return conn->respond_error(error::not_found, "no open channel " + std::to_string(id) + " on this node");
        reply(n);
    });
}

void unsubscribe_route(server_context& ctx, exchange_ptr const& conn)
{
    auto const body = body_object(conn);
    if (!body)
        return;
    auto const id = body->find("channel");
    auto const topic = body->find("topic");
    if (id == body->end() || !id->is_number_unsigned() || topic == body->end() || !topic->is_string())
        return conn->respond_error(error::missing_field, "\"channel\" (an id) and \"topic\" (a string) are required");
    auto const channel = id->get<std::uint64_t>();
    auto name = topic->get<std::string>();
    unsubscribe_channel(ctx, channel, name, [conn, channel, name](std::size_t n) {
        if (n == 0)
            return conn->respond_error(error::not_found, "no open channel " + std::to_string(channel) +
                                                             " subscribed to " + name + " on this node");
        answer(conn, R"({"unsubscribed":true})");
    });
}

void topics_route(server_context& ctx, exchange_ptr const& conn)
{
    topics(ctx, [conn](std::vector<topic_count> all) {
        std::string out = R"({"topics":[)";
        for (std::size_t n = 0; n < all.size(); ++n)
            out += (n ? ",{" : "{") + std::string(R"("topic":)") + json_string(all[n].topic) + R"(,"subscribers":)" +
                   std::to_string(all[n].subscribers) + "}";
        answer(conn, out + "]}");
    });
}

// The key as "Authorization: Bearer KEY" or "X-API-Key: KEY", compared in constant time.
bool authorized(server_context const& ctx, exchange& conn)
{
    auto const& key = ctx.options.api_key;
    return same_secret(bearer_token(conn.request()), key) || same_secret(conn.request()["X-API-Key"], key);
}

}  // namespace

void add_api_routes(route_table& routes, server_context& ctx)
{
    if (ctx.options.api_key.empty())
        return;
    using action = void (*)(server_context&, exchange_ptr const&);
    auto const add = [&](std::string path, http::verb verb, action act) {
        routes[std::move(path)] = {{verb}, [&ctx, act](exchange_ptr const& conn) {
                                       if (!authorized(ctx, *conn))
                                           return conn->respond_error(error::unauthorized,
                                                                      "the server API needs its key");
                                       if (ctx.stopping)
                                           return conn->respond_error(error::shutting_down);
                                       act(ctx, conn);
                                   }};
    };
    add("/api/broadcast", http::verb::post, &broadcast_route);
    add("/api/history", http::verb::get, &history_route);
    add("/api/channels", http::verb::get, &channels_route);
    add("/api/disconnect", http::verb::post, &disconnect_route);
    add("/api/unsubscribe", http::verb::post, &unsubscribe_route);
    add("/api/topics", http::verb::get, &topics_route);
}

}  // namespace switchboard::detail
