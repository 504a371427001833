#include "backplanes/nats/stream_record.hpp"

#include "backplanes/nats/nats_message.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string_view>

namespace switchboard::nats {

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

/// "2026-12-03T14:48:34.849616123Z" (Nats-Time-Stamp, UTC) in Unix milliseconds; 0 if unreadable.
std::int64_t unix_ms(std::string_view text)
{
    std::tm tm{};
    int fraction_at = 0;
    std::string const s(text);
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &fraction_at) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
    if (fraction_at < static_cast<int>(s.size()) && s[static_cast<std::size_t>(fraction_at)] == '.') {
        int scale = 100;
        for (auto i = static_cast<std::size_t>(fraction_at) + 1; i < s.size() && scale > 0 && s[i] >= '0' && s[i] <= '9';
             ++i, scale /= 10)
            ms += (s[i] - '0') * scale;
    }
    return ms;
}

bool number(std::string_view text, std::uint64_t& out)
{
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

/// "a,b,c" into sizes that add up to `total`; false when malformed, of one size, or of more than a record holds.
bool parse_sizes(std::string_view text, std::size_t total, std::vector<std::uint32_t>& out)
{
    std::uint64_t sum = 0;
    while (true) {
        auto const comma = text.find(',');
        std::uint64_t size = 0;
        if (!number(text.substr(0, comma), size) || size > total || out.size() == max_record_messages)
            return false;
        out.push_back(static_cast<std::uint32_t>(size));
        sum += size;
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    return out.size() > 1 && sum == total;
}

/// Offset, epoch, previous and data: what every way of reading a record has.
std::optional<stream_record> parse_common(natsMsg* m)
{
    auto offset = msg_number(m, offset_header);
    auto epoch = msg_header(m, epoch_header);
    if (!offset || !epoch || epoch->empty())
        return std::nullopt;
    stream_record r;
    r.offset = *offset;
    r.epoch = std::string(*epoch);
    r.prev = msg_number(m, expected_header).value_or(0);
    r.data = std::string(msg_data(m));
    // Several messages: their sizes must add up to the body (an epoch marker has none).
    auto sizes = msg_header(m, sizes_header);
    if (sizes && (r.offset == 0 || !parse_sizes(*sizes, r.data.size(), r.sizes)))
        return std::nullopt;
    return r;
}

}  // namespace

std::vector<message_ptr> stream_record::messages(std::string const& topic) const
{
    std::vector<message_ptr> out;
    if (offset == 0)
        return out;
    if (sizes.empty()) {
        out.push_back(std::make_shared<message const>(topic, position{offset, epoch}, data, message_sequence(seq, 0)));
        return out;
    }
    out.reserve(sizes.size());
    std::string_view rest(data);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        out.push_back(std::make_shared<message const>(topic, position{offset + i, epoch}, rest.substr(0, sizes[i]),
                                                      message_sequence(seq, i)));
        rest.remove_prefix(sizes[i]);
    }
    return out;
}

std::string join_payloads(std::vector<std::string_view> const& payloads, std::string& sizes)
{
    std::string body;
    std::size_t total = 0;
    for (auto p : payloads)
        total += p.size();
    body.reserve(total);
    sizes.clear();
    for (auto p : payloads) {
        if (!sizes.empty())
            sizes += ',';
        sizes += std::to_string(p.size());
        body += p;
    }
    return body;
}

std::optional<stream_record> parse_stored(natsMsg* m)
{
    auto r = parse_common(m);
    auto seq = msg_number(m, "Nats-Sequence");
    if (!r || !seq)
        return std::nullopt;
    r->seq = *seq;
    if (auto at = msg_header(m, "Nats-Time-Stamp"))
        r->at_ms = unix_ms(*at);
    return r;
}

std::optional<stream_record> parse_delivery(natsMsg* m)
{
    auto r = parse_common(m);
    char const* reply = natsMsg_GetReply(m);
    if (!r || !reply)
        return std::nullopt;
    // The last five tokens: <seq>.<cseq>.<ns>.<pending>, after <delivered>.
    std::string_view rest(reply);
    std::array<std::string_view, 4> tokens;  // pending, ns, cseq, seq
    for (auto& t : tokens) {
        auto const dot = rest.rfind('.');
        if (dot == std::string_view::npos)
            return std::nullopt;
        t = rest.substr(dot + 1);
        rest = rest.substr(0, dot);
    }
    std::uint64_t ns = 0;
    if (!number(tokens[0], r->pending) || !number(tokens[1], ns) || !number(tokens[2], r->consumer_seq) ||
        !number(tokens[3], r->seq))
        return std::nullopt;
    r->at_ms = static_cast<std::int64_t>(ns / 1'000'000);
    return r;
}

}  // namespace switchboard::nats
