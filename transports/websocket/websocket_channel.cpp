#include "websocket/websocket_channel.hpp"

#include "websocket/permessage_deflate.hpp"

#include "core/presence_json.hpp"
#include "core/client_address.hpp"
#include "security/authenticator.hpp"
#include "security/namespace_rules.hpp"
#include "http/http_responses.hpp"
#include "security/token_expiry.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

namespace switchboard::websocket {
namespace {

// The message encodings this transport shares between its channels (message::encoding), each in its slot.
struct frame_slots {
    std::size_t plain = message::reserve_encoding_slot();
    // As permessage-deflate sends it: compressed, or the plain frame when compressing does not pay.
    std::size_t compressed = message::reserve_encoding_slot();
    // The same two with the backplane's sequence in the envelope (message::sequenced_envelope), for the channels
    // that hold patterns.
    std::size_t sequenced = message::reserve_encoding_slot();
    std::size_t sequenced_compressed = message::reserve_encoding_slot();
    // A delta update (message::delta_envelope), for the subscribers whose previous message is its base.
    std::size_t delta = message::reserve_encoding_slot();
};

frame_slots const& slots()
{
    static frame_slots const reserved;
    return reserved;
}

// A binary payload goes out as a binary frame: the envelope without its data (JSON, one line), a line feed, then
// the bytes; the same layout a client publishes binary data with (docs/protocol.md).
std::string binary_frame_payload(message const& m, bool sequenced)
{
    std::string out = R"({"type":"message","topic":")" + m.topic() + R"(","offset":)" + std::to_string(m.offset());
    if (sequenced)
        out += R"(,"sequence":)" + std::to_string(m.sequence());
    out += "}\n";
    out += m.binary_payload();
    return out;
}

// The frame's body: the envelope (with the sequence or not), or a binary payload's header and bytes. A body
// built here (not the shared envelope itself) is kept in `built`.
std::string_view frame_body(message const& m, bool sequenced, std::string& built)
{
    if (m.binary())
        built = binary_frame_payload(m, sequenced);
    else if (sequenced)
        built = m.sequenced_envelope();
    else
        return *m.envelope();
    return built;
}

opcode frame_kind(message const& m)
{
    return m.binary() ? opcode::binary : opcode::text;
}

bool is_compressed(std::string const& frame)
{
    return !frame.empty() && (static_cast<unsigned char>(frame.front()) & 0x40);
}

}  // namespace

websocket_channel::websocket_channel(detail::connection_stream stream, detail::connection_slot slot,
                                     detail::channel_services& services, detail::packed_address remote_address)
    : push_channel(std::move(stream), std::move(slot), services, std::move(remote_address))
{
}

websocket_channel::websocket_channel(io_factory const& make, detail::channel_services& services,
                                     detail::packed_address remote_address)
    : push_channel(make, services, std::move(remote_address))
{
}

void websocket_channel::start(std::string response, std::string_view leftover, std::optional<cursor> server_since)
{
    enqueue_control(std::make_shared<std::string const>(std::move(response)));
    begin(leftover, std::move(server_since));
}

void websocket_channel::start(http_response const& head, std::string_view leftover,
                              std::optional<cursor> server_since)
{
    send_head(head);
    begin(leftover, std::move(server_since));
}

void websocket_channel::begin(std::string_view leftover, std::optional<cursor> server_since)
{
    // Before the client's first commands, which may name the same topics.
    if (server_since)
        subscribe_server_topics(*server_since);
    if (!leftover.empty())
        on_input(leftover);
    start_reading();
}

void websocket_channel::keepalive_tick(std::uint64_t now, std::uint64_t idle_in, std::uint64_t)
{
    // Any input proves the peer alive, so a busy client is never pinged; a silent one is pinged once per
    // interval and dropped when even the pong does not come.
    switch (detail::token_state(identity(), services_.options.security.token_expiry_warning)) {
    case detail::token_status::expired:
        return close(disconnect::token_expired());
    case detail::token_status::expiring:
        if (!warned_) {
            warned_ = true;
            auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(*identity().expires_at -
                                                                                     std::chrono::system_clock::now());
            send_json(nlohmann::ordered_json{{"type", "expiring"}, {"expires_in", std::max<std::int64_t>(0, left.count())}}
                          .dump());
        }
        break;
    case detail::token_status::valid:
        break;
    }
    auto const& k = services_.keepalive;
    if (idle_in >= k.ticks(services_.options.ws_ping_interval) + k.ticks(services_.options.ws_pong_timeout))
        return close(disconnect::no_pong());
    auto const ping_interval = k.ticks(services_.options.ws_ping_interval);
    if (idle_in >= ping_interval && ticks_since(last_ping_, now) >= ping_interval) {
        last_ping_ = stamp(now);
        static shared_bytes const ping = std::make_shared<std::string const>(make_frame(opcode::ping, {}));
        enqueue(ping);
    }
}

void websocket_channel::use_compression()
{
    compression_ = true;  // before start(): no input was parsed yet
}

void websocket_channel::write_message(message_ptr const& m)
{
    auto frame = message_frame(*m, pattern_count() > 0 && m->sequence() != 0);
    if (auto* const d = deltas())
        if (auto const base = d->advance(m))
            if (auto delta = delta_frame(*m, *base, frame)) {
                auto& metrics = services_.metrics;
                ++metrics.delta_deliveries;
                metrics.delta_bytes_saved += frame->size() - delta->size();
                frame = std::move(delta);
            }
    if (is_compressed(*frame))
        ++services_.metrics.ws_compressed_deliveries;
    enqueue(std::move(frame));
}

void websocket_channel::write_presence(presence_event_ptr const& e)
{
    // Small and sent to every member: plain frames, built once per event for all of them.
    static std::size_t const slot = presence_event::reserve_encoding_slot();
    enqueue(e->encoding(slot, [](presence_event const& ev) { return make_frame(opcode::text, *ev.envelope()); }));
}

void websocket_channel::pattern_replayed(std::string const& pattern, position const& last)
{
    // The replay's last messages may be ones it left out (a topic held by name, one another pattern brought):
    // this moves the client's position in the pattern past them (docs/protocol.md, "Resuming a pattern").
    send_json(nlohmann::ordered_json{
        {"type", "replayed"}, {"pattern", pattern}, {"sequence", last.offset}, {"epoch", last.epoch}}
                  .dump());
}

shared_bytes const& websocket_channel::message_frame(message const& m, bool sequenced)
{
    auto const& s = slots();
    std::size_t const plain = sequenced ? s.sequenced : s.plain;
    auto const plain_frame = [&](message const& msg) {
        std::string built;
        return make_frame(frame_kind(msg), frame_body(msg, sequenced, built));
    };
    if (!compression_ || m.envelope()->size() < services_.options.ws_compression_min_size)
        return m.encoding(plain, plain_frame);
    // Compressed once, for the first subscriber that negotiated it; every other one shares the frame.
    return m.encoding(sequenced ? s.sequenced_compressed : s.compressed, [&](message const& msg) -> shared_bytes {
        // The body is built once (a binary payload decoded once), for both frames, should deflate not pay.
        std::string built;
        auto const body = frame_body(msg, sequenced, built);
        if (auto compressed = compressed_frame(frame_kind(msg), body))
            return std::make_shared<std::string const>(std::move(*compressed));
        return msg.encoding(plain, [&](message const&) { return make_frame(frame_kind(msg), body); });
    });
}

shared_bytes websocket_channel::delta_frame(message const& m, message const& base, shared_bytes const& full)
{
    auto const& envelope = m.delta_envelope(base);
    if (envelope == m.envelope())
        return nullptr;  // no delta pays for this message
    // Deltas are small: sent plain, and only when smaller than the full frame this client would get (which may
    // be compressed).
    auto const& frame = m.encoding(slots().delta, [&](message const&) { return make_frame(opcode::text, *envelope); });
    return frame->size() < full->size() ? frame : nullptr;
}

std::optional<std::string> websocket_channel::compressed_frame(opcode kind, std::string_view payload)
{
    auto deflated = deflate_message(payload, static_cast<int>(services_.options.ws_compression_level));
    if (deflated.empty())
        return std::nullopt;
    auto& metrics = services_.metrics;
    ++metrics.ws_compressed_frames;
    metrics.ws_compression_bytes_in += payload.size();
    metrics.ws_compression_bytes_out += deflated.size();
    return make_frame(kind, deflated, true);
}

shared_bytes websocket_channel::frame_for(std::string_view json)
{
    if (compression_ && json.size() >= services_.options.ws_compression_min_size)
        if (auto compressed = compressed_frame(opcode::text, json))
            return std::make_shared<std::string const>(std::move(*compressed));
    return std::make_shared<std::string const>(make_frame(opcode::text, json));
}

struct websocket_channel::parsed_frames final : frame_sink {
    explicit parsed_frames(websocket_channel& c) : ch(c) {}

    void on_message(opcode kind, std::string_view payload, bool compressed) override
    {
        ch.on_message(kind, payload, compressed);
    }
    void on_message_too_large() override { ch.on_message_too_large(); }
    void on_ping(std::string_view payload) override { ch.on_ping(payload); }
    void on_pong(std::string_view payload) override { ch.on_pong(payload); }
    void on_close(std::uint16_t code, std::string_view reason) override { ch.on_close(code, reason); }

    websocket_channel& ch;
};

void websocket_channel::on_input(std::string_view bytes)
{
    // After a close (ours or theirs) input is only drained until the peer's EOF.
    if (peer_closed_ || closing())
        return;
    // Most reads hold whole frames: a parser on the stack reads them, and a quiet WebSocket holds none. Only a
    // frame split across reads keeps one (seldom_state::parser), until its message ends.
    auto* const kept = seldom_ ? seldom_->parser.get() : nullptr;
    std::optional<frame_parser> local;
    if (!kept) {
        local.emplace(services_.options.max_message_size);
        if (compression_)
            local->allow_compression();
    }
    auto& p = kept ? *kept : *local;
    parsed_frames frames(*this);
    p.feed(bytes, frames);
    if (p.failure() != parse_failure::none)
        return close(disconnect{static_cast<std::uint16_t>(p.failure()), std::string(p.failure_reason())});
    if (p.at_rest() || p.done()) {
        if (kept) {
            seldom_->parser.reset();
            trim_seldom();
        }
    } else if (!kept) {
        seldom().parser = std::make_unique<frame_parser>(std::move(*local));
    }
}

void websocket_channel::queue_farewell(disconnect const& reason)
{
    enqueue_control(std::make_shared<std::string const>(make_frame(opcode::close, close_payload(reason.code, reason.reason))));
}

void websocket_channel::on_message(opcode kind, std::string_view payload, bool compressed)
{
    if (closing())
        return;  // a message behind the one that closed the connection, in the same read
    if (messages_read_ <= listener_messages)
        ++messages_read_;
    std::string inflated;
    if (compressed) {
        // Bounded while inflating: a small frame that would inflate past the limit (a zip bomb) ends the
        // connection before the excess is held (RFC 6455 1009).
        switch (inflate_message(payload, services_.options.max_message_size, inflated)) {
        case inflate_status::too_large:
            return close(disconnect{1009, "message too large once inflated"});
        case inflate_status::invalid:
            return close(disconnect{1007, "invalid compressed data"});
        case inflate_status::ok:
            break;
        }
        if (kind == opcode::text && !is_valid_utf8(inflated))
            return close(disconnect{1007, "text message is not UTF-8"});
        payload = inflated;
    }
    command_error failure;
    auto cmd = kind == opcode::binary ? parse_binary_command(payload, failure) : parse_command(payload, failure);
    // A binary publish holds its bytes as base64 until the backplane has it: a third more than the frame.
    std::size_t const held = std::max(payload.size(), cmd ? cmd->data.size() : 0);
    run(std::move(cmd), failure, held);
}

void websocket_channel::on_message_too_large()
{
    send_error(std::nullopt, error::message_too_large);
}

void websocket_channel::on_ping(std::string_view payload)
{
    enqueue(std::make_shared<std::string const>(make_frame(opcode::pong, payload)));
}

void websocket_channel::on_pong(std::string_view) {}

void websocket_channel::on_close(std::uint16_t code, std::string_view reason)
{
    // The client started the closing handshake: echo its code (1000 when it sent none) and finish.
    peer_closed_ = true;
    close(disconnect{code == 1005 ? std::uint16_t{1000} : code, std::string(reason)});
}

void websocket_channel::send_json(std::string text)
{
    // Bounded like messages: a client that floods commands without reading the answers is a slow consumer.
    enqueue(frame_for(text));
}

void websocket_channel::send_error(std::optional<nlohmann::json> const& id, boost::system::error_code ec,
                                   std::string_view message, std::string_view topic)
{
    services_.metrics.count_error(error_name(ec));
    nlohmann::ordered_json out = {{"type", "error"}};
    if (id)
        out["id"] = *id;
    if (!topic.empty())
        out["topic"] = topic;
    out["code"] = error_name(ec);
    out["message"] = message.empty() ? ec.message() : std::string(message);
    // The message may quote the client's text; never let its bytes make serialization throw.
    send_json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void websocket_channel::run(std::optional<command> cmd, command_error const& failure, std::size_t size)
{
    // Malformed commands count too: each costs a parse and an error frame.
    if (!within_rate(cmd ? cmd->id : failure.id))
        return;
    if (!cmd)
        return send_error(failure.id, failure.code, failure.message);

    switch (cmd->type) {
    case command::kind::ping: {
        nlohmann::ordered_json pong = {{"type", "pong"}};
        if (cmd->id)
            pong["id"] = *cmd->id;
        return send_json(pong.dump());
    }
    case command::kind::unsubscribe:
        return unsubscribe(*cmd);
    case command::kind::subscribe:
    case command::kind::publish:
    case command::kind::refresh:
    case command::kind::presence:
    case command::kind::presence_stats:
        break;
    }
    // These may wait on a hook or the backplane: each holds a ticket until its answer.
    auto const& options = services_.options;
    auto work = begin_command(size);
    if (!work)
        return send_error(cmd->id, error::too_many_pending,
                          "commands waiting for their answers are at their bound (" +
                              std::to_string(options.max_pending_commands) + " commands, " +
                              std::to_string(options.max_pending_bytes) + " bytes); wait for some");
    if (cmd->type == command::kind::subscribe)
        return subscribe(std::move(*cmd), std::move(work));
    if (cmd->type == command::kind::publish)
        return publish(std::move(*cmd), std::move(work));
    if (cmd->type == command::kind::presence || cmd->type == command::kind::presence_stats)
        return presence(std::move(*cmd), std::move(work));
    refresh(std::move(*cmd), std::move(work));
}

void websocket_channel::unsubscribe(command const& cmd)
{
    if (cmd.pattern) {
        services_.unsubscribe_pattern(*this, cmd.topic);
        forget_pattern_replay(cmd.topic);
        if (cmd.id)
            send_json(nlohmann::ordered_json{{"type", "ack"}, {"id", *cmd.id}, {"pattern", cmd.topic}}.dump());
        return;
    }
    services_.unsubscribe(*this, cmd.topic);
    forget_replay(cmd.topic);  // what is left of it is not wanted any more
    if (auto* const d = deltas())
        d->forget(cmd.topic);
    if (cmd.id)
        send_json(nlohmann::ordered_json{{"type", "ack"}, {"id", *cmd.id}, {"topic", cmd.topic}}.dump());
}

bool websocket_channel::within_rate(std::optional<nlohmann::json> const& id)
{
    std::chrono::milliseconds retry_after{0};
    if (!services_.authorizer.take_message(&rate_, identity(), {}, retry_after)) {
        rate_.strikes = 0;
        return true;
    }
    // A client that keeps sending past the limit, ignoring the errors, is cut off; one that backs off is not.
    if (++rate_.strikes >= services_.options.security.max_rate_strikes) {
        close(disconnect::rate_limited());
        return false;
    }
    services_.metrics.count_error(error_name(error::rate_limited));
    nlohmann::ordered_json out = {{"type", "error"}};
    if (id)
        out["id"] = *id;
    out["code"] = "rate_limited";
    out["message"] = "too many commands; retry later";
    out["retry_after"] = retry_after.count();
    send_json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return false;
}

void websocket_channel::refresh(command cmd, ticket work)
{
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    detail::authenticate(
        services_.authorizer, nullptr, cmd.token, remote_address(), transport(),
        [self, work, id = std::move(cmd.id)](boost::system::error_code ec, std::string const& why, identity_ptr who) {
            work->end();
            if (self->closing())
                return;
            if (ec)
                return self->send_error(id, ec, why);
            // A refresh renews the same client's token: an anonymous connection stays anonymous and an
            // authenticated one keeps its user. Becoming someone else needs a new connection.
            auto const& now = self->identity();
            if (who->authenticated != now.authenticated || who->user != now.user)
                return self->send_error(id, error::unauthorized,
                                        now.authenticated ? "a refreshed token must name the same user"
                                                          : "an anonymous connection cannot take a user's token; "
                                                            "open a new connection with it");
            self->set_identity(std::move(who));
            self->warned_ = false;
            nlohmann::ordered_json ack = {{"type", "ack"}};
            if (id)
                ack["id"] = *id;
            if (auto const& at = self->identity().expires_at)
                ack["expires_at"] = std::chrono::duration_cast<std::chrono::seconds>(at->time_since_epoch()).count();
            self->send_json(ack.dump());
        });
}

void websocket_channel::subscribe_pattern(command cmd, ticket work)
{
    if (auto why = services_.pattern_refusal(cmd.topic); !why.empty()) {
        work->end();
        return send_error(cmd.id, error::invalid_pattern, why);
    }
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    // A resume: live messages wait until the replay is known, so none overtakes it.
    bool const resuming = cmd.since.has_value();
    if (resuming)
        hold();
    services_.subscribe_pattern(
        *this, cmd.topic, cmd.since, first_history_page(), detail::subscribe_queue::authorization::check,
        [self, work, cmd, resuming](boost::system::error_code ec, pattern_history_result result, std::string reason) {
            work->end();
            if (self->closing())
                return;
            if (!self->refused(cmd, ec, "subscribe", reason)) {
                // The pattern's position is the backplane's sequence (every message it brings carries its own).
                nlohmann::ordered_json ack = {{"type", "ack"}};
                if (cmd.id)
                    ack["id"] = *cmd.id;
                ack["pattern"] = cmd.topic;
                ack["sequence"] = result.latest.offset;
                ack["epoch"] = result.latest.epoch;
                if (resuming) {
                    ack["recovered"] = result.recovered;
                    if (!result.lost.empty())
                        ack["lost"] = result.lost;
                }
                self->send_json(ack.dump());
                if (resuming)
                    self->replay_pattern(cmd.topic, *cmd.since, result);
                else
                    self->pattern_started(cmd.topic, result.latest.offset);
            }
            if (resuming)
                self->release();
        });
}

void websocket_channel::subscribe(command cmd, ticket work)
{
    if (cmd.pattern)
        return subscribe_pattern(std::move(cmd), std::move(work));
    if (auto off = cmd.presence ? detail::presence_refused(services_.options.namespaces, cmd.topic)
                                : detail::namespace_refusal{}) {
        send_error(cmd.id, off.ec, off.message);
        return work->end();
    }
    // Authorized in turn with the topic's other subscribes and unsubscribes (subscribe_queue.hpp).
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    bool const resuming = cmd.since.has_value();
    // A topic the server subscribes this client to is granted already (a resume of it needs no permission).
    auto const& granted = identity().topics;
    bool const server_topic = std::find(granted.begin(), granted.end(), cmd.topic) != granted.end();
    services_.subscribe(
        *this, cmd.topic, cmd.since, first_history_page(),
        server_topic ? detail::subscribe_queue::authorization::done : detail::subscribe_queue::authorization::check,
        [self, work, cmd, resuming](boost::system::error_code ec, history_result result, std::string reason) {
            if (self->closing() || self->refused(cmd, ec, "subscribe", reason))
                return work->end();
            auto subscribed = [self, work, cmd, resuming](history_result const& result) {
                work->end();
                // Always acknowledged, with or without an id: the ack carries the position a client resumes from.
                nlohmann::ordered_json ack = {{"type", "ack"}};
                if (cmd.id)
                    ack["id"] = *cmd.id;
                ack["topic"] = cmd.topic;
                ack["offset"] = result.latest.offset;
                ack["epoch"] = result.latest.epoch;
                if (resuming)
                    ack["recovered"] = result.recovered;
                if (cmd.delta)
                    ack["delta"] = true;
                if (cmd.presence) {
                    // The client id others see, and the key only this client gets: it proves a reconnect within
                    // the grace is this member (docs/protocol.md, "Presence").
                    ack["presence"] = {{"client", self->presence_client()}, {"resume", self->presence_key()}};
                }
                self->send_json(ack.dump());
                // From here on this topic's messages follow the choice: the next one goes in full.
                if (cmd.delta) {
                    auto& deltas = self->seldom().deltas;
                    if (!deltas)
                        deltas = std::make_unique<detail::delta_bases>();
                    deltas->follow(cmd.topic);
                } else if (auto* const d = self->deltas()) {
                    d->forget(cmd.topic);
                }
                self->replay(result.messages, result.latest.offset);
            };
            if (!cmd.presence)
                return subscribed(result);
            self->services_.join_presence(
                *self, cmd.topic, cmd.resume,
                [self, work, cmd, subscribed, result = std::move(result)](boost::system::error_code ec) {
                    if (self->closing())
                        return work->end();
                    if (ec) {
                        // No subscription without the presence asked for: the client asks again without it.
                        self->services_.unsubscribe(*self, cmd.topic);
                        self->refused(cmd, ec, "subscribe");
                        return work->end();
                    }
                    subscribed(result);
                });
        });
}

std::size_t websocket_channel::first_history_page() const noexcept
{
    // The first page of history is small: the replay reads the rest a page at a time, and the subscribes that
    // may be in flight together (over Redis) hold no more than half the queue bound (and a message each).
    auto const& o = services_.options;
    return o.max_queue_bytes / 2 / std::max<std::size_t>(1, o.max_pending_commands);
}

void websocket_channel::tell_unsubscribed(std::string const& topic, bool pattern)
{
    send_json(nlohmann::ordered_json{{"type", "unsubscribed"}, {pattern ? "pattern" : "topic", topic}}.dump());
}

void websocket_channel::subscribe_server_topics(cursor const& since)
{
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    // The identity's topics were granted with it: no permissions, no authorize hook (identity.hpp). Each from the
    // upgrade's cursor when it names the topic (a reconnect), else from now.
    auto const resume_from = [&since](std::string const& topic) -> std::optional<position> {
        for (auto const& entry : since)
            if (entry.topic == topic)
                return entry.where;
        return std::nullopt;
    };
    for (auto const& topic : identity().topics) {
        auto const from = resume_from(topic);
        services_.subscribe(
            *this, topic, from, first_history_page(), detail::subscribe_queue::authorization::done,
            [self, topic, resumed = from.has_value()](boost::system::error_code ec, history_result result,
                                                     std::string const& reason) {
                if (self->closing())
                    return;
                if (ec)
                    return self->send_error(std::nullopt, ec, reason, topic);
                nlohmann::ordered_json told = {{"type", "subscribed"},
                                               {"topic", topic},
                                               {"offset", result.latest.offset},
                                               {"epoch", result.latest.epoch},
                                               {"server", true}};
                if (resumed)
                    told["recovered"] = result.recovered;
                self->send_json(told.dump());
                self->replay(result.messages, result.latest.offset);
            });
    }
}

namespace {

// A command's id as JSON text, or "" without one.
std::string id_text(command const& cmd)
{
    return cmd.id ? cmd.id->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : std::string();
}

}  // namespace

void websocket_channel::presence(command cmd, ticket work)
{
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    auto const topic = cmd.topic;
    if (auto off = detail::presence_refused(services_.options.namespaces, topic)) {
        send_error(cmd.id, off.ec, off.message);
        return work->end();
    }
    // Whoever may subscribe to a topic may see who is in it; nobody else.
    services_.authorizer.authorize(
        authorize_request::kind::subscribe, topic, identity_pointer(), self, remote_address(),
        [self, work, cmd = std::move(cmd)](boost::system::error_code ec, std::string const& reason) mutable {
            if (self->closing() || self->refused(cmd, ec, "see the presence of", reason))
                return work->end();
            auto& bp = self->services_.backplane;
            if (cmd.type == command::kind::presence_stats)
                return bp.presence_stats(cmd.topic, [self, work, cmd](boost::system::error_code ec, presence_counts n) {
                    work->end();
                    if (self->closing() || self->refused(cmd, ec, "see the presence of"))
                        return;
                    self->send_json(detail::presence_stats_json(id_text(cmd), cmd.topic, n));
                });
            auto const max = self->services_.options.presence.max_page;
            bp.presence_members(
                cmd.topic, cmd.cursor, std::min(cmd.limit.value_or(max), max),
                [self, work, cmd](boost::system::error_code ec, presence_page page) {
                    work->end();
                    if (self->closing() || self->refused(cmd, ec, "see the presence of"))
                        return;
                    self->send_json(detail::presence_page_json(id_text(cmd), cmd.topic, page));
                });
        });
}

void websocket_channel::publish(command cmd, ticket work)
{
    // The answer may come later (an asynchronous hook); the channel may have closed by then.
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    auto const topic = cmd.topic;
    services_.authorizer.authorize(authorize_request::kind::publish, topic, identity_pointer(), self, remote_address(),
                              [self, work, cmd = std::move(cmd)](boost::system::error_code ec,
                                                                 std::string reason) mutable {
                                  if (self->closing() || self->refused(cmd, ec, "publish", reason))
                                      return work->end();
                                  self->publish_now(std::move(cmd), std::move(work));
                              });
}

bool websocket_channel::refused(command const& cmd, boost::system::error_code ec, char const* action,
                                std::string const& reason)
{
    if (ec && !reason.empty())
        send_error(cmd.id, ec, reason);
    else if (ec == error::forbidden)
        send_error(cmd.id, ec, std::string("not allowed to ") + action + " to " + cmd.topic);
    else if (ec)
        send_error(cmd.id, ec);
    return static_cast<bool>(ec);
}

void websocket_channel::publish_now(command cmd, ticket work)
{
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    // A topic the backplane takes on for this publish is the client's, under its bound of topics per client.
    auto const address = remote_address();
    auto const charged = services_.backplane.on_behalf_of(detail::client_key(identity(), address));
    services_.publish(cmd.topic, std::move(cmd.data), this, identity_pointer(), address,
                 {std::move(cmd.idempotency_key)},
                 [self, work, id = std::move(cmd.id), topic = cmd.topic](boost::system::error_code ec, position where,
                                                                         std::string const& reason) {
                     work->end();
                     if (self->closing())
                         return;
                     if (ec)
                         return self->send_error(id, ec, reason);
                     if (!id)
                         return;
                     nlohmann::ordered_json ack = {{"type", "ack"},      {"id", *id},
                                                   {"topic", topic},     {"offset", where.offset},
                                                   {"epoch", where.epoch}};
                     self->send_json(ack.dump());
                 });
}

websocket_channel::seldom_state& websocket_channel::seldom()
{
    if (!seldom_)
        seldom_ = std::make_unique<seldom_state>();
    return *seldom_;
}

void websocket_channel::trim_seldom() noexcept
{
    if (seldom_ && !seldom_->parser && seldom_->pending.empty() && !seldom_->deltas)
        seldom_.reset();
}

websocket_channel::ticket websocket_channel::begin_command(std::size_t size)
{
    auto const& options = services_.options;
    auto& pending = seldom().pending;
    if (!pending.admit(size, options.max_pending_commands, options.max_pending_bytes))
        return nullptr;
    ++pending.commands;
    pending.bytes += size;
    return std::make_shared<pending_command>(weak_from_this(), size);
}

void websocket_channel::command_ended(std::size_t size) noexcept
{
    auto& pending = seldom_->pending;  // held while a command is counted
    --pending.commands;
    pending.bytes -= size;
    trim_seldom();
}

void websocket_channel::pending_command::end() noexcept
{
    if (auto const owner = owner_.lock())
        static_cast<websocket_channel&>(*owner).command_ended(bytes_);
    owner_.reset();
}

}  // namespace switchboard::websocket
