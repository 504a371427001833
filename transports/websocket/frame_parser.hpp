#pragma once
// RFC 6455 frames from a client, parsed incrementally from whatever the socket delivered. Server side only:
// every client frame must be masked. Reassembles fragmented messages, validates UTF-8 of text messages and
// close reasons, interleaves control frames, and bounds a message's size without buffering the excess (an
// oversized message is skipped and reported, so the connection survives it). With permessage-deflate negotiated
// it accepts RSV1 on a message's first frame and reports the message as compressed, bytes as they came: the
// channel inflates them (permessage_deflate.hpp) and checks UTF-8 then.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::websocket {

enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

/// What the parser found; payload views are valid only during the callback.
class frame_sink {
public:
    /// A text or binary message, complete; `compressed` when its first frame had RSV1 (permessage-deflate), in
    /// which case a text message's UTF-8 is not checked yet.
    virtual void on_message(opcode kind, std::string_view payload, bool compressed) = 0;
    virtual void on_message_too_large() = 0;                             // skipped, connection usable
    virtual void on_ping(std::string_view payload) = 0;
    virtual void on_pong(std::string_view payload) = 0;
    /// A close frame; `code` is 1005 when it carried none.
    virtual void on_close(std::uint16_t code, std::string_view reason) = 0;

protected:
    ~frame_sink() = default;
};

/// Why parsing stopped for good: the close code to answer with.
enum class parse_failure : std::uint16_t { none = 0, protocol_error = 1002, invalid_utf8 = 1007 };

class frame_parser {
public:
    explicit frame_parser(std::size_t max_message_size) : max_message_(max_message_size) {}

    /// Consumes `bytes`, reporting complete frames to `sink`. After a failure (or a close frame) it ignores
    /// further input; failure() says which.
    void feed(std::string_view bytes, frame_sink& sink);

    /// Accepts RSV1 on data messages from now on: permessage-deflate was negotiated.
    void allow_compression() noexcept { compression_ = true; }

    /// Between messages, with nothing of a frame read: a new parser would go on from here the same.
    bool at_rest() const noexcept
    {
        return !in_message_ && !in_payload_ && header_have_ == 0 && failure_ == parse_failure::none && !done_;
    }

    parse_failure failure() const noexcept { return failure_; }
    std::string_view failure_reason() const noexcept { return failure_reason_; }
    bool done() const noexcept { return done_; }

private:
    bool parse_header(frame_sink& sink);
    void frame_complete(frame_sink& sink);
    void fail(parse_failure f, char const* why);

    // Largest first, the flags packed at the end: every WebSocket holds one of these while idle.
    std::string message_;  // the message being assembled (data frames)
    std::string control_;  // the control frame being read
    std::size_t max_message_;
    std::uint64_t remaining_ = 0;  // of the frame being read
    char const* failure_reason_ = "";

    // The header being read (2 to 14 bytes).
    unsigned char header_[14] = {};
    std::uint8_t header_have_ = 0;

    // The frame being read.
    unsigned char mask_[4] = {};
    std::uint8_t mask_index_ = 0;  // wraps at 256, a multiple of 4
    opcode frame_op_ = opcode::continuation;
    bool in_payload_ = false;
    bool fin_ = false;

    // The message being assembled.
    opcode message_op_ = opcode::text;
    bool in_message_ = false;
    bool message_compressed_ = false;
    bool skipping_ = false;  // the message passed max_message_: drop its bytes, report at its end

    parse_failure failure_ = parse_failure::none;
    bool compression_ = false;
    bool done_ = false;
};

/// Server-to-client frame (never masked): header followed by `payload`; `compressed` sets RSV1, for a payload
/// made by deflate_message().
std::string make_frame(opcode kind, std::string_view payload, bool compressed = false);

/// The payload of a close frame for `code` and `reason` (reason cut to fit 123 bytes on a UTF-8 boundary).
std::string close_payload(std::uint16_t code, std::string_view reason);

bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace switchboard::websocket
