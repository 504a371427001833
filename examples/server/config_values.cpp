#include "config_values.hpp"

#include <switchboard/nats_backplane.hpp>
#include <switchboard/redis_backplane.hpp>

#include <boost/asio/ip/address.hpp>

#include <array>
#include <charconv>
#include <vector>
#include <cmath>
#include <fstream>
#include <sstream>
#include <limits>
#include <optional>
#include <stdexcept>

namespace switchboard_server {

namespace {

using nlohmann::json;

struct unit {
    std::string_view name;
    std::uint64_t factor;
};

// Largest first, so formatting picks the shortest exact form.
constexpr std::array<unit, 4> size_units{{{"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}, {"B", 1}}};
constexpr std::array<unit, 5> duration_units{
    {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

constexpr std::array<std::string_view, 7> level_names{"trace", "debug", "info", "warn", "error", "critical", "off"};

// A JSON integer >= 0, whether nlohmann stored it as signed (built from an int) or unsigned (parsed).
std::optional<std::uint64_t> as_unsigned(json const& v)
{
    if (v.is_number_unsigned())
        return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(v.get<std::int64_t>());
    return std::nullopt;
}

template <class T>
parsed<T> fail(std::string message)
{
    return {T{}, std::move(message)};
}

// What parse_with_unit says when the text does not start with digits; the caller words that error itself.
constexpr std::string_view not_a_number = "not a number";

// "64KiB" -> 65536 against `units`; the unit may be omitted (factor 1).
template <std::size_t N>
parsed<std::uint64_t> parse_with_unit(std::string_view text, std::array<unit, N> const& units,
                                      std::string_view unit_list)
{
    std::uint64_t number = 0;
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (end == text.data())
        return fail<std::uint64_t>(std::string(not_a_number));
    auto const too_large = [&] { return fail<std::uint64_t>("\"" + std::string(text) + "\" is too large"); };
    if (ec == std::errc::result_out_of_range)
        return too_large();
    auto const suffix = text.substr(static_cast<std::size_t>(end - text.data()));
    if (suffix.empty())
        return {number, {}};
    for (auto const& u : units) {
        if (suffix != u.name)
            continue;
        if (number > std::numeric_limits<std::uint64_t>::max() / u.factor)
            return too_large();
        return {number * u.factor, {}};
    }
    return fail<std::uint64_t>("unknown unit \"" + std::string(suffix) + "\" in \"" + std::string(text) + "\" (use " +
                               std::string(unit_list) + ")");
}

// A JSON number or unit string read against `units`; `expected` describes the value for type errors.
template <std::size_t N>
parsed<std::uint64_t> parse_quantity(json const& v, std::array<unit, N> const& units, std::string_view unit_list,
                                     std::string_view expected)
{
    auto const wrong = [&] { return fail<std::uint64_t>("expected " + std::string(expected) + ", got " + show(v)); };
    if (auto const n = as_unsigned(v))
        return {*n, {}};
    if (!v.is_string())
        return wrong();
    auto const& text = v.get_ref<std::string const&>();
    auto r = parse_with_unit(text, units, unit_list);
    if (r)
        return r;
    if (r.error == not_a_number)
        return wrong();
    return r;
}

}  // namespace

parsed<std::uint64_t> parse_count(json const& v)
{
    if (auto const n = as_unsigned(v))
        return {*n, {}};
    return fail<std::uint64_t>("expected a whole number, got " + show(v));
}

parsed<std::uint64_t> parse_size(json const& v)
{
    return parse_quantity(v, size_units, "B, KiB, MiB or GiB", R"(a size (bytes or "64KiB"))");
}

parsed<std::chrono::milliseconds> parse_duration(json const& v)
{
    auto r = parse_quantity(v, duration_units, "ms, s, m, h or d", R"(a duration (milliseconds or "25s"))");
    if (!r)
        return fail<std::chrono::milliseconds>(std::move(r.error));
    if (r.value > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max()))
        return fail<std::chrono::milliseconds>(show(v) + " is too large");
    return {std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(r.value)), {}};
}

parsed<listen_address> parse_listen(json const& v)
{
    auto const wrong = [&] {
        return fail<listen_address>(R"(expected "HOST:PORT" with HOST an IP address, got )" + show(v));
    };
    if (!v.is_string())
        return wrong();
    std::string_view const text = v.get_ref<std::string const&>();
    auto const colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return wrong();
    auto host = text.substr(0, colon);
    // IPv6 addresses contain colons, so they come in brackets as in URLs: [::1]:8080.
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string_view::npos)
        return wrong();
    auto const digits = text.substr(colon + 1);
    std::uint16_t port = 0;
    auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
        return fail<listen_address>("expected a port from 0 to 65535 after the colon, got " + show(v));
    // The server binds the address as given (no name lookup), so a host name would only fail at start.
    boost::system::error_code bad;
    boost::asio::ip::make_address(std::string(host), bad);
    if (bad)
        return fail<listen_address>("expected an IP address before the port (not a host name), got " + show(v));
    return {{std::string(host), port}, {}};
}

parsed<std::string> parse_url_path(json const& v)
{
    auto const wrong = [&] { return fail<std::string>(R"(expected a path starting with "/", got )" + show(v)); };
    if (!v.is_string())
        return wrong();
    auto const& text = v.get_ref<std::string const&>();
    if (text.empty() || text.front() != '/')
        return wrong();
    if (text == "/")
        return fail<std::string>("\"/\" is the demo page; choose another path");
    if (text == "/admin" || text == "/admin/events" || text == "/admin/disconnect")
        return fail<std::string>(show(v) + " is the admin view's; choose another path");
    if (text.starts_with("/api/"))
        return fail<std::string>(show(v) + " is under /api/, the server API's; choose another path");
    if (text.size() > 256)
        return fail<std::string>("longer than 256 characters");
    for (unsigned char const c : text)
        if (c <= ' ' || c == '?' || c == '#' || c >= 0x7f)
            return fail<std::string>("a path may not hold spaces, '?', '#' or non-ASCII characters, got " + show(v));
    return {text, {}};
}

parsed<std::string> parse_secret(json const& v)
{
    if (!v.is_string())
        return fail<std::string>("expected a string (the value is not shown)");
    auto const& text = v.get_ref<std::string const&>();
    if (text.empty())
        return {};
    // Short tokens can be guessed; 16 characters of `openssl rand -hex 16` or the like are the least.
    if (text.size() < 16 || text.size() > 256)
        return fail<std::string>("must be 16 to 256 characters, got " + std::to_string(text.size()) +
                                 " (the value is not shown)");
    for (unsigned char const c : text)
        if (c <= ' ' || c >= 0x7f)
            return fail<std::string>("may hold only printable ASCII without spaces (the value is not shown)");
    return {text, {}};
}

parsed<std::string> parse_redis_url(json const& v)
{
    // The URL may hold a password: errors say what is wrong, never the value.
    if (!v.is_string())
        return fail<std::string>("expected a string, redis://host:port/db (the value is not shown)");
    auto const& text = v.get_ref<std::string const&>();
    if (text.empty())
        return {};
    try {
        switchboard::redis_address::parse(text);
    } catch (std::invalid_argument const& e) {
        return fail<std::string>(std::string(e.what()) + " (the value is not shown)");
    }
    return {text, {}};
}

parsed<std::string> parse_nats_url(json const& v)
{
    // The URL may hold a password or a token: errors say what is wrong, never the value.
    if (!v.is_string())
        return fail<std::string>("expected a string, nats://host:port (the value is not shown)");
    auto const& text = v.get_ref<std::string const&>();
    if (text.empty())
        return {};
    try {
        switchboard::check_nats_url(text);
    } catch (std::invalid_argument const& e) {
        return fail<std::string>(std::string(e.what()) + " (the value is not shown)");
    }
    return {text, {}};
}

parsed<std::string> parse_subject_prefix(json const& v)
{
    if (!v.is_string() || v.get_ref<std::string const&>().size() > 64 ||
        !switchboard::is_valid_nats_prefix(v.get_ref<std::string const&>()))
        return fail<std::string>("expected up to 64 characters of subject tokens separated by '.' (no whitespace, "
                                 "'*' or '>'), got " + show(v));
    return {v.get<std::string>(), {}};
}

parsed<std::string> parse_key_prefix(json const& v)
{
    if (!v.is_string())
        return fail<std::string>("expected a string such as \"switchboard:\", got " + show(v));
    auto const& text = v.get_ref<std::string const&>();
    if (text.size() > 64)
        return fail<std::string>("longer than 64 characters");
    for (unsigned char const c : text)
        if (c <= ' ' || c >= 0x7f || c == '{' || c == '}')
            return fail<std::string>("may hold only printable ASCII without spaces or braces, got " + show(v));
    return {text, {}};
}

parsed<std::string> parse_text(json const& v)
{
    if (!v.is_string())
        return fail<std::string>("expected a string, got " + show(v));
    auto const& text = v.get_ref<std::string const&>();
    if (text.size() > 256)
        return fail<std::string>("must be at most 256 characters, got " + std::to_string(text.size()));
    for (unsigned char const c : text)
        if (c < ' ' || c >= 0x7f)
            return fail<std::string>("may hold only printable ASCII, got " + show(v));
    return {text, {}};
}

parsed<std::string> read_pem_file(json const& v)
{
    if (!v.is_string())
        return fail<std::string>("expected a file name, got " + show(v));
    auto const& path = v.get_ref<std::string const&>();
    if (path.empty())
        return {};
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail<std::string>("cannot read " + show(v));
    std::ostringstream text;
    text << in.rdbuf();
    // A size bound so a wrong path (a log, a device) is not read whole; an RSA public key is under 2 KiB.
    if (text.str().size() > 64 * 1024 || text.str().find("-----BEGIN PUBLIC KEY-----") == std::string::npos)
        return fail<std::string>(show(v) + " is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
    return {text.str(), {}};
}

parsed<bool> parse_boolean(json const& v)
{
    if (v.is_boolean())
        return {v.get<bool>(), {}};
    if (v == "true" || v == "false")
        return {v == "true", {}};
    return fail<bool>("expected true or false, got " + show(v));
}

parsed<std::vector<std::string>> parse_text_list(json const& v)
{
    std::vector<std::string> items;
    if (v.is_string()) {
        std::string_view rest = v.get_ref<std::string const&>();
        while (!rest.empty()) {
            auto const comma = rest.find(',');
            items.emplace_back(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    } else if (v.is_array()) {
        for (auto const& item : v) {
            if (!item.is_string())
                return fail<std::vector<std::string>>("expected an array of strings, got " + show(v));
            items.push_back(item.get<std::string>());
        }
    } else {
        return fail<std::vector<std::string>>("expected an array of strings, got " + show(v));
    }
    if (items.size() > 1000)
        return fail<std::vector<std::string>>("at most 1000 entries, got " + std::to_string(items.size()));
    for (auto const& item : items) {
        if (item.empty() || item.size() > 256)
            return fail<std::vector<std::string>>("entries must be 1 to 256 characters, got " + show(item));
        for (unsigned char const c : item)
            if (c <= ' ' || c >= 0x7f)
                return fail<std::vector<std::string>>("entries may hold only printable ASCII without spaces, got " +
                                                      show(item));
    }
    return {std::move(items), {}};
}

parsed<double> parse_per_second(json const& v)
{
    double rate = -1;
    if (v.is_number()) {
        rate = v.get<double>();
    } else if (v.is_string()) {
        auto const& text = v.get_ref<std::string const&>();
        auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rate);
        if (ec != std::errc{} || end != text.data() + text.size())
            rate = -1;
    }
    if (!(rate >= 0) || !std::isfinite(rate))
        return fail<double>("expected a number of events per second >= 0, got " + show(v));
    return {rate, {}};
}

parsed<spdlog::level::level_enum> parse_level(json const& v)
{
    if (v.is_string())
        for (std::size_t i = 0; i < level_names.size(); ++i)
            if (v.get_ref<std::string const&>() == level_names[i])
                return {static_cast<spdlog::level::level_enum>(i), {}};
    return fail<spdlog::level::level_enum>(
        R"(expected one of "trace", "debug", "info", "warn", "error", "critical", "off", got )" + show(v));
}

parsed<log_format> parse_format(json const& v)
{
    if (v == "text")
        return {log_format::text, {}};
    if (v == "json")
        return {log_format::json, {}};
    return fail<log_format>(R"(expected "text" or "json", got )" + show(v));
}

parsed<switchboard::enabled_transports> parse_transports(json const& v)
{
    auto const wrong = [&] {
        return fail<switchboard::enabled_transports>(
            R"(expected a list of "websocket", "sse", "long-polling" (an array, or names joined by ","), got )" + show(v));
    };
    std::vector<std::string> names;
    if (v.is_string()) {
        std::string_view text = v.get_ref<std::string const&>();
        while (true) {
            auto const comma = text.find(',');
            names.emplace_back(text.substr(0, comma));
            if (comma == std::string_view::npos)
                break;
            text.remove_prefix(comma + 1);
        }
    } else if (v.is_array()) {
        for (auto const& item : v) {
            if (!item.is_string())
                return wrong();
            names.push_back(item.get<std::string>());
        }
    } else {
        return wrong();
    }
    // All off is refused: a server that answers no client is a typo, not a configuration.
    switchboard::enabled_transports out{false, false, false};
    for (auto const& name : names) {
        bool* flag = name == "websocket" ? &out.websocket
                     : name == "sse"     ? &out.sse
                     : name == "long-polling" ? &out.long_polling
                                         : nullptr;
        if (!flag)
            return fail<switchboard::enabled_transports>(
                "unknown transport " + show(json(name)) + R"( (known: "websocket", "sse", "long-polling"))");
        if (*flag)
            return fail<switchboard::enabled_transports>(show(json(name)) + " is given twice");
        *flag = true;
    }
    if (names.empty() || !(out.websocket || out.sse || out.long_polling))
        return fail<switchboard::enabled_transports>("at least one transport must stay on");
    return {out, {}};
}

std::string format_transports(switchboard::enabled_transports const& t)
{
    std::string out;
    for (auto const& [on, name] : {std::pair{t.websocket, "websocket"}, {t.sse, "sse"}, {t.long_polling, "long-polling"}})
        if (on)
            out += (out.empty() ? "" : ",") + std::string(name);
    return out;
}

json number_or_string(std::string_view text)
{
    std::uint64_t n = 0;
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!text.empty() && ec == std::errc{} && end == text.data() + text.size())
        return n;
    return std::string(text);
}

std::string format_size(std::uint64_t bytes)
{
    for (auto const& u : size_units)
        if (bytes != 0 && bytes % u.factor == 0)
            return std::to_string(bytes / u.factor) + std::string(u.name);
    return std::to_string(bytes) + "B";
}

std::string format_duration(std::chrono::milliseconds d)
{
    auto const ms = static_cast<std::uint64_t>(d.count());
    for (auto const& u : duration_units)
        if (ms != 0 && ms % u.factor == 0)
            return std::to_string(ms / u.factor) + std::string(u.name);
    return std::to_string(ms) + "ms";
}

std::string show(json const& v)
{
    auto text = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 60)
        text = text.substr(0, 57) + "...";
    return text;
}

std::string_view level_name(spdlog::level::level_enum level)
{
    auto const i = static_cast<std::size_t>(level);
    return i < level_names.size() ? level_names[i] : "off";
}

std::string_view format_name(log_format format)
{
    return format == log_format::json ? "json" : "text";
}

}  // namespace switchboard_server
