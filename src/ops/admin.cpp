#include "ops/admin.hpp"

#include "http/http_responses.hpp"
#include "http/request_token.hpp"

#include <switchboard/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

namespace switchboard::detail {

namespace http = boost::beast::http;

std::string_view admin_page();

admin_view::admin_view(channel_services& services, event_stream_opener open_stream)
    : services_(services), open_stream_(std::move(open_stream)), timer_(services.executor)
{
}

bool admin_view::authorized(exchange& conn) const
{
    auto const& token = services_.options.admin_token;
    if (same_secret(bearer_token(conn.request()), token))
        return true;
    auto const* given = conn.parameters().find("token");
    return given && same_secret(*given, token);
}

route admin_view::page_route()
{
    return {{http::verb::get}, [this](std::shared_ptr<exchange> const& conn) {
                if (!authorized(*conn))
                    return conn->respond_error(error::rejected, "the admin view needs its token");
                auto res = json_response(conn->request(), std::string(admin_page()));
                res.set(http::field::content_type, "text/html; charset=utf-8");
                conn->respond(std::move(res));
            }};
}

route admin_view::events_route()
{
    return {{http::verb::get}, [this](std::shared_ptr<exchange> const& conn) {
                if (!authorized(*conn))
                    return conn->respond_error(error::rejected, "the admin view needs its token");
                if (services_.stopping)
                    return conn->respond_error(error::shutting_down);
                if (conn->request().method() == http::verb::head)
                    return conn->respond(response_head(conn->request(), "text/event-stream", "no-cache"));
                // Not registered with the hooks or the channel registry: it is the operator, not a client.
                auto stream = open_stream_(services_, conn);
                stream->send_event("stats", stats_json());
                watchers_.push_back(std::move(stream));
                if (!running_)
                    tick();
            }};
}

namespace {

// ?code=C&reason=R: an application close code (3000-3499 reconnect, 3500-3999 terminal) instead of 4006, e.g.
// to tell the clients of a retired deployment not to come back. The reason must fit a WebSocket close frame.
std::optional<disconnect> requested_disconnect(query const& parameters, std::string& why)
{
    auto const* code = parameters.find("code");
    if (!code)
        return disconnect::by_operator();
    unsigned value = 0;
    auto const [end, ec] = std::from_chars(code->data(), code->data() + code->size(), value);
    if (ec != std::errc{} || end != code->data() + code->size() || value < 3000 || value > 3999) {
        why = "code must be an application close code, 3000-3999";
        return std::nullopt;
    }
    auto const* reason = parameters.find("reason");
    disconnect out{static_cast<std::uint16_t>(value), reason ? *reason : "disconnected by the operator"};
    if (out.reason.size() > 123) {
        why = "reason must fit a WebSocket close frame: 123 bytes at most";
        return std::nullopt;
    }
    try {
        (void)nlohmann::json(out.reason).dump();  // throws on invalid UTF-8
    } catch (nlohmann::json::exception const&) {
        why = "reason must be UTF-8";
        return std::nullopt;
    }
    return out;
}

}  // namespace

route admin_view::disconnect_route()
{
    return {{http::verb::post}, [this](std::shared_ptr<exchange> const& conn) {
                if (!authorized(*conn))
                    return conn->respond_error(error::rejected, "the admin view needs its token");
                std::string why;
                auto const reason = requested_disconnect(conn->parameters(), why);
                if (!reason)
                    return conn->respond_error(error::bad_request, why);
                // close() unregisters, so walk a copy. The admin page's own stream is a channel outside the
                // registry (the operator, not a client): it stays.
                std::vector<channel_ptr> open(services_.channels.begin(), services_.channels.end());
                for (auto const& ch : open)
                    ch->close(*reason);
                conn->respond(json_response(conn->request(), R"({"disconnected":)" + std::to_string(open.size()) + "}"));
            }};
}

void admin_view::stop()
{
    stopped_ = true;
    timer_.cancel();
    for (auto const& w : watchers_)
        w->end(disconnect::shutdown());
    watchers_.clear();
}

void admin_view::tick()
{
    // Runs only while a page watches, once a second.
    running_ = true;
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](boost::system::error_code ec) {
        running_ = false;
        if (ec || stopped_)
            return;
        std::erase_if(watchers_, [](auto const& w) { return w->ended(); });
        if (watchers_.empty())
            return;
        auto const stats = stats_json();
        for (auto const& w : watchers_)
            w->send_event("stats", stats);
        tick();
    });
}

std::string admin_view::stats_json()
{
    auto const& m = services_.metrics;
    nlohmann::ordered_json out;
    out["connections"] = {{"websocket", m.connections_open[0]},
                          {"sse", m.connections_open[1]},
                          {"long-polling", m.connections_open[2]}};
    out["subscriptions"] = services_.hub.subscription_count();
    out["topics"] = services_.hub.topic_count();

    std::vector<std::pair<std::string_view, std::size_t>> topics;
    services_.hub.for_each_topic([&](std::string_view name, std::size_t n) { topics.emplace_back(name, n); });
    auto const top = std::min<std::size_t>(topics.size(), 10);
    std::partial_sort(topics.begin(), topics.begin() + static_cast<std::ptrdiff_t>(top), topics.end(),
                      [](auto const& a, auto const& b) { return a.second > b.second; });
    out["top_topics"] = nlohmann::json::array();
    for (std::size_t i = 0; i < top; ++i)
        out["top_topics"].push_back({{"topic", topics[i].first}, {"subscribers", topics[i].second}});

    // Per second, as the page is updated once a second.
    out["published_per_s"] = m.messages_published - last_published_;
    out["deliveries_per_s"] = services_.hub.deliveries() - last_deliveries_;
    last_published_ = m.messages_published;
    last_deliveries_ = services_.hub.deliveries();
    out["delivery_latency_ms"] = {{"p50", m.delivery_latency.quantile(0.5) * 1000},
                                  {"p99", m.delivery_latency.quantile(0.99) * 1000}};
    out["loop_lag_ms_p99"] = m.loop_lag.quantile(0.99) * 1000;
    out["slow_consumers"] = m.slow_consumers;
    out["backplane"] = {{"name", services_.backplane.name()}, {"connected", services_.backplane.connected()}};
    return out.dump();
}

}  // namespace switchboard::detail
