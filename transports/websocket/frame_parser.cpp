#include "websocket/frame_parser.hpp"

#include <algorithm>

namespace switchboard::websocket {
namespace {

bool is_control(opcode op) noexcept
{
    return static_cast<std::uint8_t>(op) >= 8;
}

bool is_known(std::uint8_t op) noexcept
{
    return op <= 2 || (op >= 8 && op <= 10);
}

// Close codes a peer may send (RFC 6455 7.4): 1004-1006 and 1015 are reserved for local use, 1016-2999 unassigned.
bool is_sendable_close_code(std::uint16_t code) noexcept
{
    if (code >= 3000 && code <= 4999)
        return true;
    return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept
{
    auto const* p = reinterpret_cast<unsigned char const*>(s.data());
    auto const* end = p + s.size();
    while (p < end) {
        unsigned char const c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        std::size_t n;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) <= n)
            return false;
        for (std::size_t i = 1; i <= n; ++i) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

void frame_parser::fail(parse_failure f, char const* why)
{
    failure_ = f;
    failure_reason_ = why;
    done_ = true;
}

void frame_parser::feed(std::string_view bytes, frame_sink& sink)
{
    while (!done_ && !bytes.empty()) {
        if (!in_payload_) {
            // Take header bytes one at a time until the header's length is known and complete.
            header_[header_have_++] = static_cast<unsigned char>(bytes.front());
            bytes.remove_prefix(1);
            if (!parse_header(sink))
                continue;
            if (remaining_ == 0)
                frame_complete(sink);
            continue;
        }
        std::size_t const n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
        std::string* target = is_control(frame_op_) ? &control_ : (skipping_ ? nullptr : &message_);
        if (target) {
            std::size_t const at = target->size();
            target->append(bytes.data(), n);
            for (std::size_t i = at; i < at + n; ++i)
                (*target)[i] = static_cast<char>((*target)[i] ^ mask_[mask_index_++ & 3]);
        }
        remaining_ -= n;
        bytes.remove_prefix(n);
        if (remaining_ == 0)
            frame_complete(sink);
    }
}

// Returns true once a complete header has been read (and the frame accepted); false while more bytes are needed
// or after a failure.
bool frame_parser::parse_header(frame_sink&)
{
    if (header_have_ < 2)
        return false;
    if (header_have_ == 2) {
        // The first two bytes decide whether the frame is acceptable at all: refuse now rather than wait for
        // a mask key a misbehaving client may never send.
        std::uint8_t const op = header_[0] & 0x0F;
        if ((header_[0] & 0x30) || ((header_[0] & 0x40) && !compression_)) {
            fail(parse_failure::protocol_error, "reserved bits set without an extension");
            return false;
        }
        if (!is_known(op)) {
            fail(parse_failure::protocol_error, "unknown opcode");
            return false;
        }
        // RSV1 marks a compressed message on its first frame only (RFC 7692 6.1).
        if ((header_[0] & 0x40) && (is_control(static_cast<opcode>(op)) || op == 0)) {
            fail(parse_failure::protocol_error, "RSV1 is only allowed on a message's first frame");
            return false;
        }
        if (!(header_[1] & 0x80)) {
            fail(parse_failure::protocol_error, "client frames must be masked");
            return false;
        }
        if (is_control(static_cast<opcode>(op)) && (!(header_[0] & 0x80) || (header_[1] & 0x7F) > 125)) {
            fail(parse_failure::protocol_error, "control frames must be final and at most 125 bytes");
            return false;
        }
    }
    std::size_t need = 2 + 4;
    std::uint8_t const len7 = header_[1] & 0x7F;
    if (len7 == 126)
        need += 2;
    else if (len7 == 127)
        need += 8;
    if (header_have_ < need)
        return false;
    header_have_ = 0;

    fin_ = (header_[0] & 0x80) != 0;
    frame_op_ = static_cast<opcode>(header_[0] & 0x0F);
    std::uint64_t length = len7;
    std::size_t at = 2;
    if (len7 == 126) {
        length = (std::uint64_t{header_[2]} << 8) | header_[3];
        at = 4;
        if (length < 126) {
            fail(parse_failure::protocol_error, "length not in its shortest form");
            return false;
        }
    } else if (len7 == 127) {
        length = 0;
        for (std::size_t i = 2; i < 10; ++i)
            length = (length << 8) | header_[i];
        at = 10;
        if (length >> 63 || length <= 0xFFFF) {
            fail(parse_failure::protocol_error, "bad 64-bit length");
            return false;
        }
    }
    std::copy(header_ + at, header_ + at + 4, mask_);
    mask_index_ = 0;
    remaining_ = length;

    if (is_control(frame_op_)) {
        control_.clear();
    } else if (frame_op_ == opcode::continuation) {
        if (!in_message_) {
            fail(parse_failure::protocol_error, "continuation without a message");
            return false;
        }
    } else {
        if (in_message_) {
            fail(parse_failure::protocol_error, "new message inside a fragmented one");
            return false;
        }
        in_message_ = true;
        message_op_ = frame_op_;
        message_compressed_ = (header_[0] & 0x40) != 0;
        skipping_ = false;
        message_.clear();
    }
    if (!is_control(frame_op_) && !skipping_ && message_.size() + length > max_message_) {
        skipping_ = true;
        message_.clear();
        message_.shrink_to_fit();
    }
    in_payload_ = true;
    return true;
}

void frame_parser::frame_complete(frame_sink& sink)
{
    in_payload_ = false;
    switch (frame_op_) {
    case opcode::ping:
        sink.on_ping(control_);
        return;
    case opcode::pong:
        sink.on_pong(control_);
        return;
    case opcode::close: {
        if (control_.size() == 1)
            return fail(parse_failure::protocol_error, "close frame with a one-byte payload");
        std::uint16_t code = 1005;
        std::string_view reason;
        if (control_.size() >= 2) {
            code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                              static_cast<unsigned char>(control_[1]));
            reason = std::string_view(control_).substr(2);
            if (!is_sendable_close_code(code))
                return fail(parse_failure::protocol_error, "invalid close code");
            if (!is_valid_utf8(reason))
                return fail(parse_failure::invalid_utf8, "close reason is not UTF-8");
        }
        done_ = true;
        sink.on_close(code, reason);
        return;
    }
    default:
        break;
    }
    if (!fin_)
        return;
    in_message_ = false;
    if (skipping_) {
        skipping_ = false;
        sink.on_message_too_large();
        return;
    }
    if (message_op_ == opcode::text && !message_compressed_ && !is_valid_utf8(message_))
        return fail(parse_failure::invalid_utf8, "text message is not UTF-8");
    sink.on_message(message_op_, message_, message_compressed_);
    message_.clear();
    if (message_.capacity() > 4096)
        message_.shrink_to_fit();  // kept for a message split behind this one: not with this one's buffer
}

std::string make_frame(opcode kind, std::string_view payload, bool compressed)
{
    std::string out;
    out.reserve(payload.size() + 10);
    out += static_cast<char>(0x80 | (compressed ? 0x40 : 0) | static_cast<std::uint8_t>(kind));
    std::uint64_t const n = payload.size();
    if (n < 126) {
        out += static_cast<char>(n);
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += static_cast<char>((n >> shift) & 0xFF);
    }
    out += payload;
    return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason)
{
    std::size_t cut = std::min<std::size_t>(reason.size(), 123);
    while (cut > 0 && cut < reason.size() && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80)
        --cut;
    std::string out;
    out += static_cast<char>(code >> 8);
    out += static_cast<char>(code & 0xFF);
    out += reason.substr(0, cut);
    return out;
}

}  // namespace switchboard::websocket
