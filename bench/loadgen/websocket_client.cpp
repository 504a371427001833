// The WebSocket client (RFC 6455), its own frame reader and writer, for subscribers and the WebSocket publisher.

#include "run.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace loadgen {

bool run::on_presence(connection& c, std::string_view text)
{
    // Presence frames may come before this member's own ack.
    if (text.starts_with(R"({"type":"join")")) {
        ++joins_;
    } else if (text.starts_with(R"({"type":"presence_diff")")) {
        auto const joins = text.find(R"("joins":[)");
        for (auto at = text.find(R"({"client")", joins); joins != text.npos && at != text.npos;
             at = text.find(R"({"client")", at + 1))
            ++joins_;
    } else if (text.starts_with(R"({"type":"presence_stats")") && text.find(R"("id":)") == text.npos) {
        ++counts_;
        auto const at = text.find(R"("clients":)");
        std::uint64_t clients = 0;
        if (at != text.npos)
            std::from_chars(text.data() + at + 10, text.data() + text.size(), clients);
        if (clients >= opt_.presence_total && !c.told_all) {
            c.told_all = true;
            ++told_all_;
        }
    } else {
        return text.starts_with(R"({"type":"leave")");
    }
    last_join_ns_ = now_ns();
    return true;
}

// Client frames are masked (RFC 6455 5.3); a zero mask keeps the bytes as they are, which is legal.
void run::ws_send_text(connection& c, std::string_view text)
{
    std::string frame;
    frame.reserve(text.size() + 14);
    frame.push_back(static_cast<char>(0x81));
    if (text.size() < 126) {
        frame.push_back(static_cast<char>(0x80 | text.size()));
    } else if (text.size() < 65536) {
        frame.push_back(static_cast<char>(0x80 | 126));
        frame.push_back(static_cast<char>(text.size() >> 8));
        frame.push_back(static_cast<char>(text.size() & 0xff));
    } else {
        frame.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i)
            frame.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
    }
    frame.append(4, '\0');
    frame.append(text);
    send(c, frame);
}

void run::ws_input(connection& c, char* p, std::size_t n)
{
    if (c.pending.empty()) {
        auto const used = ws_parse(c, p, n);
        if (c.state != connection::phase::closed && used < n)
            c.pending.assign(p + used, n - used);
        return;
    }
    c.pending.append(p, n);
    auto const used = ws_parse(c, c.pending.data(), c.pending.size());
    if (c.state != connection::phase::closed)
        c.pending.erase(0, used);
}

// Reads whole frames from [data, data+size); returns the bytes consumed.
std::size_t run::ws_parse(connection& c, char* data, std::size_t size)
{
    std::size_t pos = 0;
    while (size - pos >= 2) {
        auto const* p = reinterpret_cast<unsigned char const*>(data + pos);
        auto const avail = size - pos;
        bool const fin = p[0] & 0x80;
        int const op = p[0] & 0x0f;
        bool const masked = p[1] & 0x80;
        std::uint64_t len = p[1] & 0x7f;
        std::size_t head = 2;
        if (len == 126) {
            if (avail < 4)
                break;
            len = (std::uint64_t{p[2]} << 8) | p[3];
            head = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = (len << 8) | p[2 + i];
            head = 10;
        }
        if (masked)
            head += 4;  // servers must not mask; tolerated and unmasked below
        if (len > 64 * 1024 * 1024) {
            fail(c, "frame too large");
            return pos;
        }
        if (avail < head + len)
            break;
        char* payload = data + pos + head;
        if (masked)
            for (std::uint64_t i = 0; i < len; ++i)
                payload[i] = static_cast<char>(payload[i] ^ p[head - 4 + (i & 3)]);
        pos += head + len;
        switch (op) {
        case 0x0:
        case 0x1:
        case 0x2:
            if (fin && op != 0 && c.fragments.empty()) {
                ws_message(c, payload, len);
            } else {
                c.fragments.append(payload, len);
                if (fin) {
                    std::string whole;
                    whole.swap(c.fragments);
                    ws_message(c, whole.data(), whole.size());
                }
            }
            break;
        case 0x8:
            fail(c, "close frame " + (len >= 2 ? std::to_string((static_cast<unsigned char>(payload[0]) << 8)
                                                     | static_cast<unsigned char>(payload[1]))
                                               : std::string()));
            return pos;
        case 0x9: {
            // pong with the same payload, masked with a zero mask
            std::string pong;
            pong.push_back(static_cast<char>(0x8a));
            pong.push_back(static_cast<char>(0x80 | std::min<std::uint64_t>(len, 125)));
            pong.append(4, '\0');
            pong.append(payload, std::min<std::uint64_t>(len, 125));
            send(c, pong);
            break;
        }
        default: break;
        }
        if (c.state == connection::phase::closed)
            return pos;
    }
    return pos;
}

void run::ws_message(connection& c, char const* p, std::size_t n)
{
    if (c.kind == connection::role::ws_publisher) {
        // Acks of publish commands: {"type":"ack","id":SEQ,...}; errors carry the id too.
        std::string_view const text(p, n);
        auto const id = text.find("\"id\":");
        if (id == std::string_view::npos)
            return;
        std::uint64_t seq = 0;
        std::from_chars(p + id + 5, p + n, seq);
        on_published(seq, text.find("\"type\":\"ack\"") != std::string_view::npos);
        return;
    }
    if (opt_.presence && on_presence(c, std::string_view(p, n)))
        return;
    if (c.state != connection::phase::ready) {
        // Switchboard: the subscribe ack.
        if (std::string_view(p, n).find("\"type\":\"ack\"") != std::string_view::npos)
            mark_ready(c);
        else if (std::string_view(p, n).find("\"type\":\"error\"") != std::string_view::npos)
            fail(c, "subscribe refused: " + std::string(p, std::min<std::size_t>(n, 200)));
        return;
    }
    scan(c, p, n);
}

}  // namespace loadgen
