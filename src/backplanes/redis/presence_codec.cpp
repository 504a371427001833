#include "backplanes/redis/presence_codec.hpp"

#include <charconv>

namespace switchboard::redis {

std::string presence_record(std::string_view node, presence_member const& m)
{
    std::string out;
    out.reserve(node.size() + m.user.size() + m.info.size() + 24);
    out += node;
    out += ' ';
    out += std::to_string(m.user.size());
    out += ' ';
    out += m.user;
    out += m.info;
    return out;
}

std::optional<presence_member> presence_member_of(std::string_view client, std::string_view record)
{
    auto const node_end = record.find(' ');
    if (node_end == std::string_view::npos)
        return std::nullopt;
    auto const length_end = record.find(' ', node_end + 1);
    if (length_end == std::string_view::npos)
        return std::nullopt;
    std::size_t length = 0;
    auto const digits = record.substr(node_end + 1, length_end - node_end - 1);
    auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty())
        return std::nullopt;
    auto const rest = record.substr(length_end + 1);
    if (length > rest.size() || rest.size() - length == 0)
        return std::nullopt;  // no info: not a record (info is "null" at least)
    return presence_member{std::string(client), std::string(rest.substr(0, length)), std::string(rest.substr(length))};
}

presence_event_ptr presence_event_of(std::string_view payload)
{
    // "<j|l> <client> <topic> <record>"
    if (payload.size() < 4 || (payload[0] != 'j' && payload[0] != 'l') || payload[1] != ' ')
        return nullptr;
    auto const client_end = payload.find(' ', 2);
    if (client_end == std::string_view::npos)
        return nullptr;
    auto const topic_end = payload.find(' ', client_end + 1);
    if (topic_end == std::string_view::npos || topic_end == client_end + 1)
        return nullptr;
    auto const client = payload.substr(2, client_end - 2);
    auto member = presence_member_of(client, payload.substr(topic_end + 1));
    if (!member || client.empty())
        return nullptr;
    return std::make_shared<presence_event const>(payload[0] == 'j' ? presence_event::kind::join
                                                                    : presence_event::kind::leave,
                                                  std::string(payload.substr(client_end + 1, topic_end - client_end - 1)),
                                                  std::move(*member));
}

}  // namespace switchboard::redis
