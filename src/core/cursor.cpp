#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <algorithm>
#include <charconv>

namespace switchboard {
namespace {

bool is_alnum(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool decode_entry(std::string_view entry, topic_position& out)
{
    auto const first = entry.find('.');
    if (first == std::string_view::npos || first == 0)
        return false;
    auto const second = entry.find('.', first + 1);
    if (second == std::string_view::npos)
        return false;

    auto const digits = entry.substr(0, first);
    auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.where.offset);
    if (ec != std::errc{} || end != digits.data() + digits.size())
        return false;

    auto const epoch = entry.substr(first + 1, second - first - 1);
    if (epoch.size() > max_epoch_length || !std::all_of(epoch.begin(), epoch.end(), is_alnum))
        return false;
    out.where.epoch.assign(epoch);

    auto const topic = entry.substr(second + 1);
    if (!is_valid_topic(topic) && !is_valid_pattern(topic))  // a pattern's entry holds its sequence
        return false;
    out.topic.assign(topic);
    return true;
}

}  // namespace

void append_cursor_entry(std::string& out, std::string_view topic, position const& where)
{
    if (!out.empty())
        out += ',';
    out += std::to_string(where.offset);
    out += '.';
    out += where.epoch;
    out += '.';
    out += topic;
}

std::string encode_cursor(cursor const& c)
{
    std::string out;
    for (auto const& entry : c)
        append_cursor_entry(out, entry.topic, entry.where);
    return out;
}

boost::system::error_code decode_cursor(std::string_view text, cursor& out, std::size_t max_entries)
{
    out.clear();
    if (text.empty())
        return {};
    while (true) {
        auto const comma = text.find(',');
        if (out.size() == max_entries)
            return error::invalid_cursor;
        topic_position entry;
        if (!decode_entry(text.substr(0, comma), entry))
            return error::invalid_cursor;
        out.push_back(std::move(entry));
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    // Duplicates are found by sorting the names, not by a search per entry: a cursor may name thousands.
    if (out.size() > 1) {
        std::vector<std::string_view> names;
        names.reserve(out.size());
        for (auto const& e : out)
            names.push_back(e.topic);
        std::sort(names.begin(), names.end());
        if (std::adjacent_find(names.begin(), names.end()) != names.end())
            return error::invalid_cursor;
    }
    return {};
}

}  // namespace switchboard
