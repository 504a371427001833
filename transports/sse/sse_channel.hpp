#pragma once
// A Server-Sent Events stream (WHATWG EventSource). After the response head the body never ends (no chunked
// encoding, no length: the stream ends when the connection does), so a message's event bytes can be shared:
// a one-topic stream's whole event is built once per message; a multi-topic stream adds its own "id:" line
// (the cursor of all its topics) in front of the shared "data:" part.

#include "write_path/delta_bases.hpp"
#include "write_path/push_channel.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/http.hpp>

#include <chrono>
#include <memory>

namespace switchboard::sse {

class sse_channel final : public detail::push_channel {
public:
    sse_channel(detail::connection_stream stream, detail::connection_slot slot, detail::channel_services& services,
                detail::packed_address remote_address);
    /// Over an HTTP/2 stream (the exchange's push_io()): the head goes as HEADERS, the events as DATA.
    sse_channel(io_factory const& make, detail::channel_services& services, detail::packed_address remote_address);

    std::string_view transport() const noexcept override { return "sse"; }

    /// Writes the response head; `positions` are the stream's topics, each at its starting position.
    void start(cursor positions);
    /// An event of a named type (not dispatched to onmessage), e.g. "subscribed".
    void send_event(std::string_view type, std::string const& json);
    /// event: unsubscribed, data {"type":"unsubscribed","topic":T} (or "pattern":P).
    void tell_unsubscribed(std::string const& topic, bool pattern) override;
    using push_channel::hold;
    using push_channel::release;
    using push_channel::replay;
    using push_channel::pattern_started;
    using push_channel::replay_pattern;
    /// Messages of `topics` go as deltas against the previous one where they can (?delta=1); the first of each
    /// in full. Called before start().
    void send_deltas(std::vector<std::string> const& topics);
    /// Writes the current cursor as the stream's last event id (an event with no data dispatches nothing but
    /// moves EventSource's lastEventId).
    void send_cursor();
    /// Answers an HTTP error over the taken-over socket and closes.
    void refuse(boost::system::error_code ec, std::string_view message = {});
    /// The request's allowed Origin (or ""): the response head then carries CORS fields for it.
    void allow_origin(std::string origin);

private:
    std::string response_head() const;
    /// Sends the response head: as the io's HEADERS (HTTP/2), else as bytes (HTTP/1.1); then the retry field.
    /// `control`: past the queue's bounds (a farewell's head).
    void open_body(bool control);
    void write_message(message_ptr const& m) override;
    /// An event named "join" or "leave" whose data is the presence envelope, with no id (it moves no position).
    void write_presence(presence_event_ptr const& e) override;
    /// Moves the pattern's entry of the cursor to `last` and states the cursor.
    void pattern_replayed(std::string const& pattern, position const& last) override;
    /// Moves the replaying pattern's entry to the message's sequence (the others as write_message does).
    void write_replayed_message(std::string const& pattern, message_ptr const& m) override;
    /// Moves the entries of the patterns `m` reaches the stream through (not replaying) to its sequence;
    /// false when none moved.
    bool advance_patterns(message const& m);
    void on_input(std::string_view) override {}
    /// An EventSource sends nothing after its request: its stream waits for the client's end in the loop's idle
    /// watch as soon as its head is out (in a connect storm, Asio's reactor entries then peak at the connections
    /// being set up, not at every stream).
    bool expects_input() const noexcept override { return false; }
    void queue_farewell(disconnect const& reason) override;
    void keepalive_tick(std::uint64_t now, std::uint64_t idle_in, std::uint64_t idle_out) override;

    /// The stream's cursor (made empty if it has none).
    cursor& entries() { return seldom().positions; }
    detail::delta_bases* deltas() const noexcept { return seldom_ ? seldom_->deltas.get() : nullptr; }
    /// The request's allowed Origin, or null.
    std::string const* cors_origin() const noexcept;
    /// A one-topic stream's first id is out: from here on its cursor is the id of its last event.
    void cursor_stated();
    /// The data lines of `m`: a delta against the client's previous message of its topic when it has one and it
    /// pays, else the full envelope's (shared by every stream).
    shared_bytes const& data_lines(message_ptr const& m);

    bool started_ = false;
    // One topic, no pattern, no delta: every event of the stream carries the cursor in its shared id, so the
    // stream keeps its own only until it has stated it (its first id): 104 bytes of an idle stream.
    bool one_topic_ = false;
    // What an idle one-topic stream does without, made on first use: it pays one pointer.
    struct seldom_state {
        cursor positions;  // none: no entry (or a one-topic stream past its first id)
        std::unique_ptr<detail::delta_bases> deltas;  // ?delta=1 only
        std::string cors_origin;  // read for the response head (and a refusal or farewell before it)
    };
    seldom_state& seldom();  // made if missing
    std::unique_ptr<seldom_state> seldom_;
};

}  // namespace switchboard::sse
