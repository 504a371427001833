#include "ops/ops_routes.hpp"

#include "http/http_responses.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <map>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

template <class Value>
void sample(std::string& out, std::string_view name, std::string_view labels, Value v)
{
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += std::to_string(v);
    out += '\n';
}

std::string label(std::string_view key, std::string_view value)
{
    return std::string(key) + "=\"" + std::string(value) + "\"";
}

}  // namespace

std::string render_metrics(server_context const& ctx)
{
    auto const& m = ctx.metrics;
    std::string out;
    out.reserve(4096);

    family(out, "switchboard_connections", "gauge", "Open channels by transport.");
    for (std::size_t i = 0; i < transport_names.size(); ++i)
        sample(out, "switchboard_connections", label("transport", transport_names[i]), m.connections_open[i]);
    family(out, "switchboard_connections_opened_total", "counter", "Channels opened by transport.");
    for (std::size_t i = 0; i < transport_names.size(); ++i)
        sample(out, "switchboard_connections_opened_total", label("transport", transport_names[i]),
               m.connections_opened[i]);
    // A parked stream's socket waits in the loop's idle watch instead of Asio (its reactor entry and wait freed).
    family(out, "switchboard_connections_parked", "gauge", "Quiet streams whose socket waits in the loop's idle watch.");
    sample(out, "switchboard_connections_parked", "", ctx.idle.parked());
    family(out, "switchboard_client_sockets", "gauge", "Client sockets, HTTP and streaming alike.");
    sample(out, "switchboard_client_sockets", "", ctx.connections.total);
    // HTTP/2 multiplexes channels: 13 SSE streams of one browser page are 13 channels on one client socket.
    family(out, "switchboard_http2_connections", "gauge", "Client sockets speaking HTTP/2 (h2c or h2 over TLS).");
    sample(out, "switchboard_http2_connections", "", ctx.h2_connections.size());
    family(out, "switchboard_http2_streams", "gauge", "Open streams of those connections (an SSE stream is one).");
    sample(out, "switchboard_http2_streams", "", ctx.h2_streams);
    family(out, "switchboard_disconnects_total", "counter", "Channels closed, by close code (rare codes by range).");
    for (auto const& [code, n] : m.disconnects)
        sample(out, "switchboard_disconnects_total", label("code", code), n);

    family(out, "switchboard_subscriptions", "gauge", "Subscriptions of all channels.");
    sample(out, "switchboard_subscriptions", "", ctx.hub.subscription_count());
    family(out, "switchboard_topics", "gauge", "Topics with subscribers on this node.");
    sample(out, "switchboard_topics", "", ctx.hub.topic_count());
    family(out, "switchboard_patterns", "gauge", "Patterns with subscribers on this node.");
    sample(out, "switchboard_patterns", "", ctx.hub.pattern_count());
    family(out, "switchboard_pattern_subscriptions", "gauge", "Subscriptions of all channels to patterns.");
    sample(out, "switchboard_pattern_subscriptions", "", ctx.hub.pattern_subscription_count());

    if (auto const totals = ctx.backplane.presence_size()) {
        family(out, "switchboard_presence_members", "gauge",
               "Presence members of every topic, as the backplane keeps them (one channel in one topic each).");
        sample(out, "switchboard_presence_members", "", totals->members);
        family(out, "switchboard_presence_topics", "gauge",
               "Topics with presence members, as the backplane keeps them.");
        sample(out, "switchboard_presence_topics", "", totals->topics);
    }
    family(out, "switchboard_presence_lingering", "gauge",
           "Presence members of closed channels of this node, kept for the reconnect grace.");
    sample(out, "switchboard_presence_lingering", "", ctx.lingering_members());
    family(out, "switchboard_presence_events_total", "counter",
           "Presence events this node fanned out (each counted once): joins and leaves as they came, the diffs "
           "of a batch interval, the counts of topics past presence.max_event_members.");
    auto const kinds = {presence_event::kind::join, presence_event::kind::leave, presence_event::kind::diff,
                        presence_event::kind::counts};
    auto const kind_label = [](presence_event::kind k) { return label("kind", presence_event::name_of(k)); };
    for (auto k : kinds)
        sample(out, "switchboard_presence_events_total", kind_label(k), ctx.hub.presence_events(k));
    family(out, "switchboard_presence_deliveries_total", "counter",
           "Presence events handed to channels (one per present channel of the topic).");
    for (auto k : kinds)
        sample(out, "switchboard_presence_deliveries_total", kind_label(k), ctx.hub.presence_deliveries(k));

    family(out, "switchboard_messages_published_total", "counter", "Messages published through this node.");
    sample(out, "switchboard_messages_published_total", "", m.messages_published);
    family(out, "switchboard_messages_delivered_total", "counter",
           "Messages fanned out to this node's subscribers (each counted once).");
    sample(out, "switchboard_messages_delivered_total", "", ctx.hub.messages_delivered());
    family(out, "switchboard_deliveries_total", "counter", "Messages handed to channels (one per subscriber).");
    sample(out, "switchboard_deliveries_total", "", ctx.hub.deliveries());
    family(out, "switchboard_pattern_deliveries_total", "counter",
           "Of those, the ones made through a pattern (the channel did not hold the topic itself).");
    sample(out, "switchboard_pattern_deliveries_total", "", ctx.hub.pattern_deliveries());
    family(out, "switchboard_bytes_out_total", "counter", "Bytes written to streams and poll answers.");
    sample(out, "switchboard_bytes_out_total", "", m.bytes_out);
    family(out, "switchboard_slow_consumers_total", "counter", "Channels closed because their queue was full.");
    sample(out, "switchboard_slow_consumers_total", "", m.slow_consumers);
    family(out, "switchboard_handler_exceptions_total", "counter",
           "Exceptions thrown out of a completion handler (a bug): logged, and the loop went on.");
    sample(out, "switchboard_handler_exceptions_total", "", m.handler_exceptions);
    family(out, "switchboard_websocket_compressed_frames_total", "counter",
           "Messages and replies compressed with permessage-deflate (each message once, whatever its subscribers).");
    sample(out, "switchboard_websocket_compressed_frames_total", "", m.ws_compressed_frames);
    family(out, "switchboard_websocket_compression_input_bytes_total", "counter",
           "Bytes of the frames permessage-deflate compressed, before compression.");
    sample(out, "switchboard_websocket_compression_input_bytes_total", "", m.ws_compression_bytes_in);
    family(out, "switchboard_websocket_compression_output_bytes_total", "counter",
           "Bytes of those frames after compression.");
    sample(out, "switchboard_websocket_compression_output_bytes_total", "", m.ws_compression_bytes_out);
    family(out, "switchboard_websocket_compressed_deliveries_total", "counter",
           "Compressed message frames queued to subscribers (one per subscriber that negotiated permessage-deflate).");
    sample(out, "switchboard_websocket_compressed_deliveries_total", "", m.ws_compressed_deliveries);
    family(out, "switchboard_delta_deliveries_total", "counter",
           "Messages delivered as a delta against the subscriber's previous one (subscriptions with delta).");
    sample(out, "switchboard_delta_deliveries_total", "", m.delta_deliveries);
    family(out, "switchboard_delta_bytes_saved_total", "counter",
           "Bytes those deltas saved against the full frames or events they replaced.");
    sample(out, "switchboard_delta_bytes_saved_total", "", m.delta_bytes_saved);
    family(out, "switchboard_tls_handshakes_total", "counter", "TLS handshakes begun on the shared listener.");
    sample(out, "switchboard_tls_handshakes_total", "", m.tls_handshakes);
    family(out, "switchboard_tls_handshake_failures_total", "counter", "TLS handshakes that failed or timed out.");
    sample(out, "switchboard_tls_handshake_failures_total", "", m.tls_handshake_failures);
    family(out, "switchboard_errors_total", "counter", "Refused requests and commands, by error code.");
    for (auto const& [code, n] : m.errors)
        sample(out, "switchboard_errors_total", label("code", code), n);

    family(out, "switchboard_backplane_up", "gauge", "1 when the backplane can publish.");
    sample(out, "switchboard_backplane_up", label("backplane", ctx.backplane.name()), ctx.backplane.connected() ? 1 : 0);

    m.delivery_latency.render(out, "switchboard_delivery_latency_seconds",
                              "From publish on this node to the write of every subscriber's bytes.");
    m.publish_latency.render(out, "switchboard_publish_latency_seconds",
                             "From a publish handed to the backplane to its position.");
    m.loop_lag.render(out, "switchboard_loop_lag_seconds", "How late a periodic timer fires on the event loop.");
    return out;
}

std::string merge_metrics(std::vector<std::string> const& texts)
{
    // A family: its comment lines, then its series (the name and labels) with their values, in the order seen.
    struct family_lines {
        std::string comments;
        std::vector<std::pair<std::string, double>> series;
        std::map<std::string, std::size_t, std::less<>> index;
    };
    std::vector<family_lines> families;
    std::map<std::string, std::size_t, std::less<>> family_index;
    std::vector<double> loop_channels(texts.size(), 0);
    for (std::size_t loop = 0; loop < texts.size(); ++loop) {
        auto const& text = texts[loop];
        family_lines* current = nullptr;
        bool up = false;
        std::size_t start = 0;
        while (start < text.size()) {
            auto end = text.find('\n', start);
            if (end == std::string::npos)
                end = text.size();
            std::string_view const line(text.data() + start, end - start);
            start = end + 1;
            if (line.empty())
                continue;
            if (line.starts_with("# HELP ")) {
                auto const rest = line.substr(7);
                std::string name(rest.substr(0, rest.find(' ')));
                up = name == "switchboard_backplane_up";
                auto [it, added] = family_index.try_emplace(name, families.size());
                if (added)
                    families.emplace_back();
                current = &families[it->second];
                if (added)
                    current->comments.append(line).append("\n");
                continue;
            }
            if (!current)
                continue;
            if (line.starts_with('#')) {
                if (current->series.empty() && current->comments.find(line) == std::string::npos)
                    current->comments.append(line).append("\n");
                continue;
            }
            auto const space = line.rfind(' ');
            if (space == std::string_view::npos)
                continue;
            std::string key(line.substr(0, space));
            double const v = std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
            if (line.starts_with("switchboard_connections{"))
                loop_channels[loop] += v;
            auto [it, added] = current->index.try_emplace(key, current->series.size());
            if (added)
                current->series.emplace_back(std::move(key), v);
            else if (up)
                current->series[it->second].second = std::min(current->series[it->second].second, v);
            else
                current->series[it->second].second += v;
        }
    }
    std::string out;
    out.reserve(texts.empty() ? 0 : texts.front().size() + 256);
    for (auto const& f : families) {
        out += f.comments;
        for (auto const& [key, v] : f.series) {
            out += key;
            out += ' ';
            if (v == std::floor(v) && std::abs(v) < 1e15)
                out += std::to_string(static_cast<long long>(v));
            else
                out += std::to_string(v);
            out += '\n';
        }
    }
    family(out, "switchboard_loops", "gauge", "Event loops of this process (threads), each a node of its cluster.");
    sample(out, "switchboard_loops", "", texts.size());
    family(out, "switchboard_loop_channels", "gauge", "Open channels of each loop.");
    for (std::size_t loop = 0; loop < texts.size(); ++loop)
        sample(out, "switchboard_loop_channels", label("loop", std::to_string(loop)),
               static_cast<std::uint64_t>(loop_channels[loop]));
    return out;
}

route make_metrics_route(server_context& ctx)
{
    return {{http::verb::get}, [&ctx](std::shared_ptr<exchange> const& conn) {
                auto answer = [conn](std::string text) {
                    auto res = json_response(conn->request(), std::move(text));
                    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                    conn->respond(std::move(res));
                };
                if (!ctx.gather_metrics)
                    return answer(render_metrics(ctx));
                // One loop of several: the process's metrics, each loop's read on its own loop.
                ctx.gather_metrics([answer](std::vector<std::string> texts) { answer(merge_metrics(texts)); });
            }};
}

route make_health_route(server_context&)
{
    return {{http::verb::get}, [](std::shared_ptr<exchange> const& conn) {
                conn->respond(json_response(conn->request(), R"({"status":"ok"})"));
            }};
}

route make_ready_route(server_context& ctx)
{
    return {{http::verb::get}, [&ctx](std::shared_ptr<exchange> const& conn) {
                bool const backplane_up = ctx.backplane.connected();
                bool const ready = backplane_up && !ctx.stopping;
                std::string body = std::string(R"({"status":")") + (ready ? "ready" : "not ready") +
                                   R"(","accepting":)" + (ctx.stopping ? "false" : "true") + R"(,"backplane":")" +
                                   (backplane_up ? "connected" : "disconnected") + "\"}";
                conn->respond(json_response(conn->request(), std::move(body), ready ? 200 : 503));
            }};
}

}  // namespace switchboard::detail
