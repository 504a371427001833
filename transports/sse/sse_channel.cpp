#include "sse/sse_channel.hpp"

#include "http/http_responses.hpp"
#include "security/origin_policy.hpp"
#include "security/token_expiry.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <nlohmann/json.hpp>

namespace switchboard::sse {
namespace {

std::size_t single_topic_slot()
{
    static std::size_t const slot = message::reserve_encoding_slot();
    return slot;
}

std::size_t data_only_slot()
{
    static std::size_t const slot = message::reserve_encoding_slot();
    return slot;
}

// A delta update's data line (message::delta_envelope: one line, its delta a JSON string).
std::size_t delta_slot()
{
    static std::size_t const slot = message::reserve_encoding_slot();
    return slot;
}

// An envelope as data lines: a payload may hold line feeds (JSON whitespace), and EventSource joins an event's
// data lines with "\n", which gives the envelope back byte for byte. (A raw CR never gets here: SSE would read it
// as a line end, so publishing refuses it.)
std::string data_lines_of(std::string_view rest)
{
    std::string out;
    out.reserve(rest.size() + 8);
    for (auto lf = rest.find('\n'); lf != std::string_view::npos; lf = rest.find('\n')) {
        out += "data: ";
        out += rest.substr(0, lf + 1);
        rest.remove_prefix(lf + 1);
    }
    out += "data: ";
    out += rest;
    out += "\n\n";
    return out;
}

std::string data_part(message const& m)
{
    return data_lines_of(*m.envelope());
}

shared_bytes bytes(std::string s)
{
    return std::make_shared<std::string const>(std::move(s));
}

}  // namespace

sse_channel::sse_channel(detail::connection_stream stream, detail::connection_slot slot,
                         detail::channel_services& services, detail::packed_address remote_address)
    : push_channel(std::move(stream), std::move(slot), services, std::move(remote_address))
{
}

sse_channel::sse_channel(io_factory const& make, detail::channel_services& services,
                         detail::packed_address remote_address)
    : push_channel(make, services, std::move(remote_address))
{
}

void sse_channel::start(cursor positions)
{
    one_topic_ = positions.size() == 1 && !deltas() && !is_valid_pattern(positions.front().topic);
    if (!positions.empty())
        seldom().positions = std::move(positions);
    started_ = true;
    open_body(false);
    if (seldom_)
        seldom_->cors_origin = {};  // the head carried it, and nothing after it needs it
    start_reading();
}

void sse_channel::open_body(bool control)
{
    http_response head{boost::beast::http::status::ok, 11};
    head.set(boost::beast::http::field::server, "switchboard");
    head.set(boost::beast::http::field::content_type, "text/event-stream");
    head.set(boost::beast::http::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");
    if (auto const* origin = cors_origin())
        detail::add_cors_fields(head, *origin);
    auto body = send_head(head) ? bytes("retry: " + std::to_string(services_.options.sse_retry.count()) + "\n\n")
                                : bytes(response_head());
    if (control)
        enqueue_control(std::move(body));
    else
        enqueue(std::move(body));
}

std::string sse_channel::response_head() const
{
    std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Server: switchboard\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        "Connection: close\r\n"
        "X-Accel-Buffering: no\r\n";  // tells nginx-style proxies not to buffer the stream
    if (auto const* origin = cors_origin())
        head += detail::cors_field_lines(*origin);
    head += "\r\n";
    head += "retry: " + std::to_string(services_.options.sse_retry.count()) + "\n\n";
    return head;
}

void sse_channel::allow_origin(std::string origin)
{
    if (!origin.empty())
        seldom().cors_origin = std::move(origin);
}

void sse_channel::send_deltas(std::vector<std::string> const& topics)
{
    auto& deltas = seldom().deltas;
    deltas = std::make_unique<detail::delta_bases>();
    for (auto const& topic : topics)
        deltas->follow(topic);
}

shared_bytes const& sse_channel::data_lines(message_ptr const& m)
{
    auto const& full = m->encoding(data_only_slot(), data_part);
    auto* const d = deltas();
    auto const base = d ? d->advance(m) : nullptr;
    if (!base)
        return full;
    auto const& envelope = m->delta_envelope(*base);
    if (envelope == m->envelope())
        return full;
    auto const& delta = m->encoding(delta_slot(), [&](message const&) { return data_lines_of(*envelope); });
    auto& metrics = services_.metrics;
    ++metrics.delta_deliveries;
    metrics.delta_bytes_saved += full->size() - delta->size();
    return delta;
}

void sse_channel::write_message(message_ptr const& m)
{
    if (one_topic_) {
        cursor_stated();
        // Only its topic reaches the stream (an SSE stream subscribes at its start only); one left since (the
        // server API's unsubscribe) moves no id.
        if (!services_.hub.subscribed(*this, m->topic()))
            return void(enqueue(m->encoding(data_only_slot(), data_part)));
        enqueue(m->encoding(single_topic_slot(), [](message const& msg) {
            std::string id;
            append_cursor_entry(id, msg.topic(), msg.where());
            return "id: " + id + "\n" + data_part(msg);
        }));
        return;
    }
    auto& positions = entries();
    auto it = std::find_if(positions.begin(), positions.end(),
                           [&](topic_position const& p) { return p.topic == m->topic(); });
    if (it == positions.end()) {
        // A pattern's message (a topic the stream did not name): its sequence moves the patterns' entries.
        if (advance_patterns(*m) && !enqueue(bytes("id: " + encode_cursor(positions) + "\n")))
            return;
        enqueue(m->encoding(data_only_slot(), data_part));
        return;
    }
    it->where = m->where();
    if (enqueue(bytes("id: " + encode_cursor(positions) + "\n")))
        enqueue(data_lines(m));
}

void sse_channel::write_presence(presence_event_ptr const& e)
{
    static std::size_t const slot = presence_event::reserve_encoding_slot();
    enqueue(e->encoding(slot, [](presence_event const& ev) {
        // The envelope is one line of JSON (no line feed: the user is escaped, the info is a dumped claim).
        return "event: " + std::string(ev.name()) + "\ndata: " + *ev.envelope() + "\n\n";
    }));
}

bool sse_channel::advance_patterns(message const& m)
{
    // A replaying pattern's entry moves only with its replay's messages (write_replayed_message) and its end
    // (pattern_replayed): another pattern's message may pass the replay's, and a reconnect must not skip what
    // the replay has not sent.
    bool moved = false;
    for (auto& p : entries())
        if (m.sequence() > p.where.offset && is_valid_pattern(p.topic) && pattern_matches(p.topic, m.topic()) &&
            !replaying_pattern(p.topic)) {
            p.where.offset = m.sequence();
            moved = true;
        }
    return moved;
}

void sse_channel::write_replayed_message(std::string const& pattern, message_ptr const& m)
{
    // Every message the pattern matches comes through its replay while it runs, in sequence order: its entry
    // follows them, so a reconnect mid-replay resumes from the last one sent.
    for (auto& p : entries())
        if (p.topic == pattern && p.where.offset < m->sequence())
            p.where.offset = m->sequence();
    advance_patterns(*m);
    if (enqueue(bytes("id: " + encode_cursor(entries()) + "\n")))
        enqueue(m->encoding(data_only_slot(), data_part));
}

void sse_channel::pattern_replayed(std::string const& pattern, position const& last)
{
    for (auto& p : entries())
        if (p.topic == pattern && (p.where.epoch != last.epoch || p.where.offset < last.offset))
            p.where = last;
    send_cursor();
}

void sse_channel::tell_unsubscribed(std::string const& topic, bool pattern)
{
    send_event("unsubscribed",
               nlohmann::ordered_json{{"type", "unsubscribed"}, {pattern ? "pattern" : "topic", topic}}.dump());
}

void sse_channel::send_event(std::string_view type, std::string const& json)
{
    enqueue(bytes("event: " + std::string(type) + "\ndata: " + json + "\n\n"));
}

void sse_channel::send_cursor()
{
    if (one_topic_ && (!seldom_ || seldom_->positions.empty()))
        return;  // its last id is its cursor already
    enqueue(bytes("id: " + encode_cursor(entries()) + "\n\n"));
    cursor_stated();
}

void sse_channel::cursor_stated()
{
    if (!one_topic_ || !seldom_)
        return;
    seldom_->positions = {};
    if (seldom_->cors_origin.empty())  // a one-topic stream has no deltas
        seldom_.reset();
}

sse_channel::seldom_state& sse_channel::seldom()
{
    if (!seldom_)
        seldom_ = std::make_unique<seldom_state>();
    return *seldom_;
}

std::string const* sse_channel::cors_origin() const noexcept
{
    return seldom_ && !seldom_->cors_origin.empty() ? &seldom_->cors_origin : nullptr;
}

void sse_channel::keepalive_tick(std::uint64_t, std::uint64_t, std::uint64_t idle_out)
{
    // SSE cannot take a new token on the open stream: at expiry it ends with a close event (4004) and the
    // client reconnects with a fresh token, resuming from its Last-Event-ID.
    if (detail::token_state(identity(), std::chrono::milliseconds(0)) == detail::token_status::expired)
        return close(disconnect::token_expired());
    // A comment keeps proxies from timing the stream out, and lets a dead peer's writes fail.
    static shared_bytes const comment = bytes(":\n\n");
    if (idle_out >= services_.keepalive.ticks(services_.options.sse_heartbeat))
        enqueue(comment);
}

void sse_channel::refuse(boost::system::error_code ec, std::string_view message)
{
    services_.metrics.count_error(error_name(ec));
    http_request req{boost::beast::http::verb::get, "/", 11};
    req.keep_alive(false);
    auto res = detail::error_response(req, ec, message);
    if (auto const* origin = cors_origin())
        detail::add_cors_fields(res, *origin);
    if (send_head(res))
        enqueue_control(bytes(std::move(res.body())));  // over HTTP/2: HEADERS went, the body follows as DATA
    else
        enqueue_control(bytes(detail::serialize(res)));
    start_reading();
    close(disconnect::rejected());
}

void sse_channel::queue_farewell(disconnect const& reason)
{
    if (!started_) {
        // The application closed the channel while it subscribed (from a hook): its code still reaches the
        // client, which must know whether to reconnect. (Switchboard's own refusals answer an HTTP error.)
        if (!reason.from_application())
            return;
        open_body(true);
        start_reading();
    }
    nlohmann::ordered_json body = {{"type", "close"}, {"code", reason.code}, {"reason", reason.reason}};
    // An application's reason that is not UTF-8 must not throw in a close path: its bad bytes become U+FFFD.
    enqueue_control(bytes("event: close\ndata: " + body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                          "\n\n"));
}

}  // namespace switchboard::sse
