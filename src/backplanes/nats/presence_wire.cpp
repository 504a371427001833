#include "backplanes/nats/presence_wire.hpp"

#include <charconv>

namespace switchboard::nats {

void append_entry(std::string& out, std::string_view topic, presence_member const& m)
{
    out += m.client;
    out += ' ';
    out += topic;
    out += ' ';
    out += std::to_string(m.user.size());
    out += ' ';
    out += std::to_string(m.info.size());
    out += ' ';
    out += m.user;
    out += m.info;
}

std::string_view read_field(std::string_view& in)
{
    auto const end = in.find(' ');
    auto const field = in.substr(0, end);
    in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
    return field;
}

std::optional<std::uint64_t> number_of(std::string_view field)
{
    std::uint64_t n = 0;
    auto const [end, ec] = std::from_chars(field.data(), field.data() + field.size(), n);
    if (field.empty() || ec != std::errc{} || end != field.data() + field.size())
        return std::nullopt;
    return n;
}

std::optional<presence_entry> read_entry(std::string_view& in)
{
    auto const client = read_field(in);
    auto const topic = read_field(in);
    auto const user_bytes = number_of(read_field(in));
    auto const info_bytes = number_of(read_field(in));
    if (client.empty() || topic.empty() || !user_bytes || !info_bytes || *info_bytes == 0 ||
        *user_bytes > in.size() || *info_bytes > in.size() - *user_bytes)
        return std::nullopt;  // no info: not an entry (it is "null" at least)
    presence_entry e{std::string(topic),
                     {std::string(client), std::string(in.substr(0, *user_bytes)),
                      std::string(in.substr(*user_bytes, *info_bytes))}};
    in.remove_prefix(*user_bytes + *info_bytes);
    return e;
}

std::uint64_t member_hash(std::string_view client, std::string_view topic) noexcept
{
    // FNV-1a over "<client> <topic>", then splitmix64's finalizer so that nearby ids spread over every bit.
    std::uint64_t h = 14695981039346656037ull;
    auto mix = [&](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
    };
    mix(client);
    mix(" ");
    mix(topic);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

}  // namespace switchboard::nats
