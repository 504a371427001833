#include "core/json_input.hpp"

#include "core/base64.hpp"

#include <switchboard/error.hpp>
#include <switchboard/message.hpp>

#include <algorithm>
#include <cstring>

namespace switchboard::detail {
namespace {

// Deepest nesting of arrays and objects in `text`, counting brackets outside strings. Exact for valid JSON,
// and cheap enough to run before the parser: bounding depth first means nothing later recurses deeply.
std::size_t nesting(std::string_view text) noexcept
{
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{')
            deepest = std::max(deepest, ++depth);
        else if ((c == ']' || c == '}') && depth > 0)
            --depth;
    }
    return deepest;
}

std::string too_deep()
{
    return "nested deeper than " + std::to_string(max_json_depth) + " levels";
}

// nlohmann's parser driven without building anything (its SAX interface, iterative): checks the grammar, UTF-8
// and numbers as a parse does, and bounds depth in the same pass.
class checker {
public:
    using json = nlohmann::json;

    bool null() { return true; }
    bool boolean(bool) { return true; }
    bool number_integer(json::number_integer_t) { return true; }
    bool number_unsigned(json::number_unsigned_t) { return true; }
    bool number_float(json::number_float_t, json::string_t const&) { return true; }
    bool string(json::string_t&) { return true; }
    bool binary(json::binary_t&) { return true; }
    bool key(json::string_t&) { return true; }
    bool start_object(std::size_t) { return enter(); }
    bool start_array(std::size_t) { return enter(); }
    bool end_object() { return leave(); }
    bool end_array() { return leave(); }

    bool parse_error(std::size_t position, std::string const&, json::exception const& e)
    {
        // nlohmann's messages quote the input, which may not be UTF-8: only their kind is passed on.
        auto const near = " (near byte " + std::to_string(position) + ")";
        if (std::strstr(e.what(), "UTF-8"))
            problem = "not valid UTF-8" + near;
        else if (e.id == 406)
            problem = "not valid JSON" + near + ": a number past the range of a double";
        else
            problem = "not valid JSON" + near;
        return false;
    }

    std::string problem;

private:
    bool enter()
    {
        if (++depth_ <= max_json_depth)
            return true;
        problem = too_deep();
        return false;
    }

    bool leave()
    {
        --depth_;
        return true;
    }

    std::size_t depth_ = 0;
};

std::string json_problem(std::string_view text)
{
    checker c;
    if (nlohmann::json::sax_parse(text.begin(), text.end(), &c) || !c.problem.empty())
        return c.problem;
    return "not valid JSON";
}

}  // namespace

boost::system::error_code parse_json(std::string_view text, nlohmann::json& out, std::string* why)
{
    if (nesting(text) > max_json_depth) {
        if (why)
            *why = too_deep();
        return error::invalid_json;
    }
    out = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded()) {
        if (why)
            *why = json_problem(text);  // a second pass, only for text that is refused anyway
        return error::invalid_json;
    }
    return {};
}

std::string payload_problem(std::string_view text)
{
    if (text.starts_with("\xEF\xBB\xBF"))
        return "a UTF-8 byte order mark before the JSON: it is not part of JSON, and the message could not carry it";
    if (auto problem = json_problem(text); !problem.empty())
        return problem;
    return raw_cr_problem(text);
}

std::string data_problem(std::string_view data)
{
    if (!data.starts_with(message::binary_prefix))
        return payload_problem(data);
    data.remove_prefix(message::binary_prefix.size());
    return base64_decode(data) ? std::string() : "a binary payload's base64 is not canonical";
}

std::size_t payload_size(std::string_view data) noexcept
{
    if (!data.starts_with(message::binary_prefix))
        return data.size();
    data.remove_prefix(message::binary_prefix.size());
    std::size_t const padding = data.ends_with("==") ? 2 : data.ends_with('=') ? 1 : 0;
    return data.size() / 4 * 3 - std::min(padding, data.size() / 4 * 3);
}

std::string raw_cr_problem(std::string_view json_text)
{
    // In valid JSON a raw CR can only be whitespace between tokens (inside strings it is written \r).
    auto const cr = json_text.find('\r');
    if (cr == std::string_view::npos)
        return {};
    return "a raw carriage return (CR) at byte " + std::to_string(cr) +
           ": SSE cannot deliver it unchanged; leave it out (inside strings it is written \\r)";
}

}  // namespace switchboard::detail
