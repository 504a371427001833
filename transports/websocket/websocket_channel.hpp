#pragma once
// A WebSocket client from its upgrade on: the 101 as its first bytes, then RFC 6455 framing of our own both ways,
// so an idle connection holds a socket and a few fields. Text frames carry JSON commands (docs/protocol.md);
// messages go out as frames built once per message and shared by every subscriber.

#include "write_path/push_channel.hpp"
#include "security/rate_limiter.hpp"
#include "websocket/command.hpp"
#include "websocket/frame_parser.hpp"
#include "websocket/pending_commands.hpp"
#include "write_path/delta_bases.hpp"

#include <switchboard/cursor.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

namespace switchboard::websocket {

class websocket_channel final : public detail::push_channel {
public:
    websocket_channel(detail::connection_stream stream, detail::connection_slot slot,
                      detail::channel_services& services, detail::packed_address remote_address);
    /// Over an HTTP/2 stream (RFC 8441, the exchange's push_io()): frames both ways are its DATA.
    websocket_channel(io_factory const& make, detail::channel_services& services,
                      detail::packed_address remote_address);

    std::string_view transport() const noexcept override { return "websocket"; }

    /// Over HTTP/1.1: sends `response` (the 101, whole) as the channel's first bytes, then starts reading.
    /// `leftover` holds bytes the client sent right behind its request. For a channel services.open() accepted,
    /// `server_since` asks for its server-side subscriptions (identity::topics) first, each from that cursor (the
    /// upgrade's ?since=) when it names the topic; a refused channel is given none.
    void start(std::string response, std::string_view leftover, std::optional<cursor> server_since = {});
    /// Over an HTTP/2 stream: answers the extended CONNECT with `head` (200, as HEADERS), then as above.
    void start(http_response const& head, std::string_view leftover, std::optional<cursor> server_since = {});
    /// {"type":"unsubscribed","topic":T} (or "pattern":P).
    void tell_unsubscribed(std::string const& topic, bool pattern) override;
    /// permessage-deflate was negotiated in the handshake (before start()).
    void use_compression();

private:
    void write_message(message_ptr const& m) override;
    void write_presence(presence_event_ptr const& e) override;
    /// Tells the client: {"type":"replayed","pattern":P,"sequence":S,"epoch":E}.
    void pattern_replayed(std::string const& pattern, position const& last) override;
    void on_input(std::string_view bytes) override;
    void queue_farewell(disconnect const& reason) override;
    void keepalive_tick(std::uint64_t now, std::uint64_t idle_in, std::uint64_t idle_out) override;
    /// What both start()s do once the answer is queued.
    void begin(std::string_view leftover, std::optional<cursor> server_since);

    // What the frame parser reads, told through parsed_frames: a sink made on the stack for each read, where
    // deriving from frame_sink put its vtable pointer in every WebSocket (8 bytes).
    struct parsed_frames;
    void on_message(opcode kind, std::string_view payload, bool compressed);
    void on_message_too_large();
    void on_ping(std::string_view payload);
    void on_pong(std::string_view payload);
    /// A WebSocket that has sent at most listener_messages messages (its subscriptions, as a rule) listens: it
    /// rests each time its output is out, as an SSE stream does. Past that it may publish all the time, and rests
    /// after two quiet ticks: resting at each flush would cost four epoll_ctl calls a read. Before its first
    /// message it expects one, right behind the 101, unless the server subscribed it (identity::topics): resting
    /// once the 101 is out would cost it a park and an unpark for the command already on its way.
    bool expects_input() const noexcept override
    {
        return messages_read_ > listener_messages || (messages_read_ == 0 && identity().topics.empty());
    }
    static constexpr std::uint8_t listener_messages = 8;
    void on_close(std::uint16_t code, std::string_view reason);

    // One command waiting for its answer, counted in seldom_state::pending until end() or until the last copy of
    // its ticket is gone, whichever comes first (a hook may keep its answer handler after answering). It holds
    // the channel weakly, and may outlive it. The counts were a block of their own, shared with the tickets:
    // every WebSocket that ever sent a command held it, and the seldom_state, until a quiet tick gave both back,
    // which left holes where they had been made between the channels (64 bytes of every one after a storm).
    class pending_command {
    public:
        pending_command(std::weak_ptr<channel> owner, std::size_t bytes) noexcept
            : owner_(std::move(owner)), bytes_(bytes)
        {
        }
        pending_command(pending_command const&) = delete;
        pending_command& operator=(pending_command const&) = delete;
        ~pending_command() { end(); }
        void end() noexcept;

    private:
        std::weak_ptr<channel> owner_;
        std::size_t bytes_;
    };
    using ticket = std::shared_ptr<pending_command>;
    /// A ticket for a command of `size` bytes, or null when it would pass the channel's bounds.
    ticket begin_command(std::size_t size);
    void command_ended(std::size_t size) noexcept;

    /// Runs a command read from a text frame (or a binary frame's publish) of `size` bytes, or answers why it
    /// could not be read.
    void run(std::optional<command> cmd, command_error const& failure, std::size_t size);
    void subscribe(command cmd, ticket work);
    /// Bytes of a subscribe's first history page.
    std::size_t first_history_page() const noexcept;
    /// Subscribes the identity's topics, each answered {"type":"subscribed","topic":T,"offset":O,"epoch":E,
    /// "server":true}, or an error frame naming its topic.
    void subscribe_server_topics(cursor const& since);
    void subscribe_pattern(command cmd, ticket work);
    /// Answers {"type":"presence",...} (a page of members) or {"type":"presence_stats",...}.
    void presence(command cmd, ticket work);
    void unsubscribe(command const& cmd);
    /// Publishes once authorization allows; else answers with an error frame.
    void publish(command cmd, ticket work);
    void publish_now(command cmd, ticket work);
    /// Answers `cmd` (a subscribe or publish, named by `action`) with the error frame for `ec`, if it is one; its
    /// message is the hook's `reason` when it gave one.
    bool refused(command const& cmd, boost::system::error_code ec, char const* action, std::string const& reason = {});
    void refresh(command cmd, ticket work);
    bool within_rate(std::optional<nlohmann::json> const& id);
    void send_json(std::string text);
    /// `json` as a text frame, compressed when this connection negotiated it and compressing pays.
    shared_bytes frame_for(std::string_view json);
    /// The frame every subscriber of `m` like this one shares: compressed when negotiated and it pays, else plain;
    /// `sequenced`: with the backplane's sequence in the envelope (a channel holding patterns).
    shared_bytes const& message_frame(message const& m, bool sequenced);
    /// `m` as a delta against `base` (its predecessor) when that is smaller than `full`; else null.
    shared_bytes delta_frame(message const& m, message const& base, shared_bytes const& full);
    /// `payload` deflated into a frame with RSV1, counted in the metrics; nothing when deflate does not shrink it.
    std::optional<std::string> compressed_frame(opcode kind, std::string_view payload);
    /// {"type":"error"[,"id":ID][,"topic":T],"code":...,"message":...}: `topic` names it for an error no command
    /// asked for (a server-side subscription's).
    void send_error(std::optional<nlohmann::json> const& id, boost::system::error_code ec,
                    std::string_view message = {}, std::string_view topic = {});

    // The flags and the ping's tick together: one word, where apart they took three.
    bool peer_closed_ = false;
    bool compression_ = false;  // permessage-deflate negotiated
    bool warned_ = false;       // told its token is expiring (reset by a refresh)
    std::uint8_t messages_read_ = 0;  // up to listener_messages + 1
    std::uint32_t last_ping_ = 0;     // a stamp of the tick count (push_channel::stamp)
    detail::channel_rate rate_;
    // What a quiet WebSocket holds none of, made on first use and given back as soon as it holds nothing: one
    // pointer of every WebSocket where three took 24 bytes.
    struct seldom_state {
        // Only while a message is split across reads (on_input): the parser is 120 bytes, and a buffer.
        std::unique_ptr<frame_parser> parser;
        pending_commands pending;
        std::unique_ptr<detail::delta_bases> deltas;  // only once a subscription asked for delta updates
    };
    seldom_state& seldom();  // made if missing
    /// Gives the seldom_state back once it holds nothing.
    void trim_seldom() noexcept;
    detail::delta_bases* deltas() const noexcept { return seldom_ ? seldom_->deltas.get() : nullptr; }
    std::unique_ptr<seldom_state> seldom_;
};

}  // namespace switchboard::websocket
