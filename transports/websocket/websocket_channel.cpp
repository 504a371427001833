#include "websocket/websocket_channel.hpp"

#include "http_responses.hpp"
#include "json_input.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <optional>

#include <nlohmann/json.hpp>

namespace switchboard::websocket {
namespace {

std::size_t frame_slot()
{
    static std::size_t const slot = message::reserve_encoding_slot();
    return slot;
}

shared_bytes text_frame(std::string_view json)
{
    return std::make_shared<std::string const>(make_frame(opcode::text, json));
}

// The id a command carried, if it is one we echo (a number or a string).
nlohmann::json const* command_id(nlohmann::json const& cmd)
{
    if (!cmd.is_object())
        return nullptr;
    auto it = cmd.find("id");
    if (it == cmd.end() || !(it->is_number() || it->is_string()))
        return nullptr;
    return &*it;
}

}  // namespace

websocket_channel::websocket_channel(boost::asio::ip::tcp::socket socket, detail::server_context& ctx,
                                     std::string remote_address)
    : push_channel(std::move(socket), ctx, std::move(remote_address)), parser_(ctx.options.max_message_size)
{
}

void websocket_channel::start(std::string_view leftover)
{
    if (!leftover.empty())
        on_input(leftover);
    start_reading();
}

void websocket_channel::deliver(message_ptr const& m)
{
    enqueue(m->encoding(frame_slot(), [](message const& msg) { return make_frame(opcode::text, *msg.envelope()); }));
}

void websocket_channel::on_input(std::string_view bytes)
{
    // After a close (ours or theirs) input is only drained until the peer's EOF.
    if (peer_closed_ || closing())
        return;
    parser_.feed(bytes, *this);
    if (parser_.failure() != parse_failure::none)
        close(disconnect{static_cast<std::uint16_t>(parser_.failure()), std::string(parser_.failure_reason())});
}

void websocket_channel::queue_farewell(disconnect const& reason)
{
    enqueue_control(std::make_shared<std::string const>(make_frame(opcode::close, close_payload(reason.code, reason.reason))));
}

void websocket_channel::on_message(opcode kind, std::string_view payload)
{
    if (kind == opcode::binary)
        return send_error(nullptr, error::binary_not_supported);
    on_command(payload);
}

void websocket_channel::on_message_too_large()
{
    send_error(nullptr, error::message_too_large);
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
    enqueue(text_frame(text));
}

void websocket_channel::send_error(nlohmann::json const* id, boost::system::error_code ec, std::string_view message)
{
    nlohmann::ordered_json out = {{"type", "error"}};
    if (id)
        out["id"] = *id;
    out["code"] = error_name(ec);
    out["message"] = message.empty() ? ec.message() : std::string(message);
    send_json(out.dump());
}

void websocket_channel::on_command(std::string_view text)
{
    nlohmann::json cmd;
    if (auto ec = detail::parse_json(text, cmd))
        return send_error(nullptr, ec);
    if (!cmd.is_object())
        return send_error(nullptr, error::invalid_json, "a command is a JSON object");
    auto const* id = command_id(cmd);
    auto const type = cmd.find("type");
    if (type == cmd.end() || !type->is_string())
        return send_error(id, error::missing_field, "\"type\" (a string) is required");
    auto const& kind = type->get_ref<std::string const&>();

    if (kind == "ping") {
        nlohmann::ordered_json pong = {{"type", "pong"}};
        if (id)
            pong["id"] = *id;
        return send_json(pong.dump());
    }
    if (kind != "subscribe" && kind != "unsubscribe" && kind != "publish")
        return send_error(id, error::unknown_type, "unknown command type: " + kind);

    auto const topic_it = cmd.find("topic");
    if (topic_it == cmd.end() || !topic_it->is_string())
        return send_error(id, error::missing_field, "\"topic\" (a string) is required");
    std::string const topic = topic_it->get<std::string>();

    // Answers run on the loop thread, possibly later; the channel may have closed meanwhile.
    auto self = std::static_pointer_cast<websocket_channel>(shared_from_this());
    std::optional<nlohmann::json> reply_id = id ? std::optional<nlohmann::json>(*id) : std::nullopt;

    if (kind == "subscribe") {
        ctx_.subscribe(*this, topic, std::nullopt,
                       [self, topic, reply_id](boost::system::error_code ec, history_result result) {
                           if (self->closing())
                               return;
                           if (ec)
                               return self->send_error(reply_id ? &*reply_id : nullptr, ec);
                           if (!reply_id)
                               return;
                           nlohmann::ordered_json ack = {{"type", "ack"},
                                                 {"id", *reply_id},
                                                 {"topic", topic},
                                                 {"offset", result.latest.offset},
                                                 {"epoch", result.latest.epoch}};
                           self->send_json(ack.dump());
                       });
        return;
    }
    if (kind == "unsubscribe") {
        if (!is_valid_topic(topic))
            return send_error(id, error::invalid_topic);
        ctx_.unsubscribe(*this, topic);
        if (id)
            send_json(nlohmann::ordered_json{{"type", "ack"}, {"id", *id}, {"topic", topic}}.dump());
        return;
    }
    auto data = cmd.find("data");
    if (data == cmd.end())
        return send_error(id, error::missing_field, "\"data\" is required");
    ctx_.publish(topic, *data, this, remote_address(), [self, topic, reply_id](boost::system::error_code ec, position where) {
        if (self->closing())
            return;
        if (ec)
            return self->send_error(reply_id ? &*reply_id : nullptr, ec);
        if (!reply_id)
            return;
        nlohmann::ordered_json ack = {
            {"type", "ack"}, {"id", *reply_id}, {"topic", topic}, {"offset", where.offset}, {"epoch", where.epoch}};
        self->send_json(ack.dump());
    });
}

}  // namespace switchboard::websocket
