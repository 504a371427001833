#pragma once
// An event-stream parser following the WHATWG HTML "server-sent events" interpretation rules.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::test {

// One dispatched event. `id` is the last event ID in force when it was dispatched.
struct sse_event {
    std::string type = "message";
    std::string id;
    std::string data;
};

// Turns event-stream bytes, fed in pieces of any size, into events. Lines end in "\n", "\r\n" or "\r"
// (a "\r\n" split across two feeds counts once); "field: value" loses one space after the colon;
// `data` lines are joined with "\n"; a blank line dispatches. As the spec says, an event without any
// `data` line is not dispatched, but its `id` still becomes last_event_id(); a lone "data:" line does
// dispatch an event with empty data. An event left unfinished at the end of the stream is discarded.
class sse_parser {
public:
    using event_handler = std::function<void(sse_event)>;

    explicit sse_parser(event_handler on_event);

    void feed(std::string_view bytes);

    // The last event ID string (updated at each dispatch, kept across events), "" at first.
    std::string const& last_event_id() const { return last_event_id_; }
    // The reconnection time from the last valid `retry` field, in milliseconds.
    std::optional<std::uint64_t> retry() const { return retry_; }
    // Comment lines (starting with ':') seen so far: the server's heartbeats.
    std::size_t comments() const { return comments_; }

private:
    void process_line(std::string_view line);
    void process_field(std::string_view field, std::string_view value);
    void dispatch();

    event_handler on_event_;
    std::string line_;
    std::string data_;
    std::string event_type_;
    std::string id_buffer_;
    std::string last_event_id_;
    std::optional<std::uint64_t> retry_;
    std::size_t comments_ = 0;
    bool after_cr_ = false;
    bool first_line_ = true;
};

}  // namespace switchboard::test
