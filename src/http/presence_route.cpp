#include "http/presence_route.hpp"

#include "core/presence_json.hpp"
#include "http/http_responses.hpp"
#include "security/namespace_rules.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string_view>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

// A client id as the server makes them, and so the only cursor there is: 32 lowercase hex digits.
bool is_presence_id(std::string_view s)
{
    return s.size() == 32 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A positive decimal count; larger than any page is kept at the largest (the caller lowers it to max_page).
bool parse_limit(std::string_view text, std::size_t& out)
{
    auto const digit = [](char c) { return c >= '0' && c <= '9'; };
    if (text.empty() || !std::all_of(text.begin(), text.end(), digit))
        return false;
    std::uint64_t n = 0;
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc::result_out_of_range)
        n = std::numeric_limits<std::uint64_t>::max();
    else if (ec != std::errc() || end != text.data() + text.size())
        return false;
    if (n == 0)
        return false;
    out = static_cast<std::size_t>(std::min<std::uint64_t>(n, std::numeric_limits<std::size_t>::max()));
    return true;
}

void answer(std::shared_ptr<exchange> const& conn, boost::system::error_code ec, std::string const& topic,
            std::string body)
{
    if (ec)
        return conn->respond_error(ec, ec == error::forbidden ? "not allowed to see the presence of " + topic
                                                              : std::string());
    auto res = json_response(conn->request(), std::move(body));
    // A snapshot is of this moment: caches must not keep it.
    res.set(http::field::cache_control, "no-store");
    conn->respond(std::move(res));
}

void presence(channel_services& services, std::shared_ptr<exchange> const& conn)
{
    auto const& q = conn->parameters();
    auto const* topic = q.find("topic");
    if (!topic)
        return conn->respond_error(error::missing_field, "?topic= is required");
    if (q.find("pattern"))
        return conn->respond_error(error::invalid_pattern, "presence is a topic's, not a pattern's: name a ?topic=");
    if (!is_valid_topic(*topic))
        return conn->respond_error(error::invalid_topic);
    if (q.all("topic").size() > 1)
        return conn->respond_error(error::bad_request, "one ?topic= per presence request");
    bool stats = false;
    if (auto const* s = q.find("stats")) {
        if (*s != "1" && *s != "0" && *s != "true" && *s != "false")
            return conn->respond_error(error::bad_request, "stats is 1 (or true) or 0 (or false)");
        stats = *s == "1" || *s == "true";
    }
    auto const max = services.options.presence.max_page;
    std::size_t limit = max;
    if (auto const* l = q.find("limit")) {
        if (stats)
            return conn->respond_error(error::bad_request, "limit is a snapshot's, not stats'");
        if (!parse_limit(*l, limit))
            return conn->respond_error(error::bad_request, "limit is a positive integer");
    }
    std::string cursor;
    if (auto const* c = q.find("cursor")) {
        if (stats)
            return conn->respond_error(error::bad_request, "cursor is a snapshot's, not stats'");
        if (!is_presence_id(*c))
            return conn->respond_error(error::invalid_cursor, "cursor is the \"next\" of a previous page");
        cursor = *c;
    }
    // Each request reads the backplane: it costs what a WebSocket presence command costs, and is counted alike.
    std::chrono::milliseconds retry_after{0};
    if (services.authorizer.take_message(nullptr, *conn->identity(), conn->client_ip(), retry_after))
        return conn->respond_rate_limited(retry_after);
    if (auto off = presence_refused(services.options.namespaces, *topic))
        return conn->respond_error(off.ec, off.message);
    // Whoever may subscribe to a topic may see who is in it; nobody else.
    services.authorizer.authorize(
        authorize_request::kind::subscribe, *topic, conn->identity(), nullptr, conn->remote_address(),
        [&services, conn, topic = *topic, stats, limit = std::min(limit, max),
         cursor = std::move(cursor)](boost::system::error_code ec, std::string const& reason) {
            if (ec && !reason.empty())
                return conn->respond_error(ec, reason);
            if (ec)
                return answer(conn, ec, topic, {});
            if (stats)
                return services.backplane.presence_stats(topic, [conn, topic](boost::system::error_code ec,
                                                                              presence_counts n) {
                    answer(conn, ec, topic, ec ? std::string() : presence_stats_json({}, topic, n));
                });
            services.backplane.presence_members(topic, cursor, limit,
                                                [conn, topic](boost::system::error_code ec, presence_page page) {
                                                    answer(conn, ec, topic,
                                                           ec ? std::string() : presence_page_json({}, topic, page));
                                                });
        });
}

}  // namespace

route make_presence_route(channel_services& services)
{
    return {{http::verb::get}, [&services](std::shared_ptr<exchange> const& conn) { presence(services, conn); },
            "presence"};
}

}  // namespace switchboard::detail
