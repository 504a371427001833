#include "backplanes/nats/subject.hpp"

#include <stdexcept>

namespace switchboard::nats {

namespace {

constexpr char empty_token = '~';

bool topic_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '@' || c == '/' || c == '-';
}

}  // namespace

std::string topic_tokens(std::string_view topic)
{
    std::string out;
    out.reserve(topic.size() + 2);
    bool token_empty = true;  // the current token has no character yet
    for (char c : topic) {
        if (c == '.') {
            if (token_empty)
                out += empty_token;
            out += '.';
            token_empty = true;
        } else {
            out += c;
            token_empty = false;
        }
    }
    if (token_empty)
        out += empty_token;
    return out;
}

std::optional<std::string> topic_of_tokens(std::string_view tokens)
{
    std::string out;
    out.reserve(tokens.size());
    std::size_t start = 0;
    for (;;) {
        auto const end = tokens.find('.', start);
        auto const token = tokens.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (token == std::string_view(&empty_token, 1)) {
            // an empty part of the topic
        } else if (token.empty()) {
            return std::nullopt;
        } else {
            for (char c : token)
                if (!topic_char(c) || c == '.')
                    return std::nullopt;
            out += token;
        }
        if (end == std::string_view::npos)
            break;
        out += '.';
        start = end + 1;
    }
    if (out.empty())
        return std::nullopt;
    return out;
}

bool is_valid_prefix(std::string_view prefix) noexcept
{
    if (prefix.empty() || prefix.front() == '.' || prefix.back() == '.' || prefix.find("..") != std::string_view::npos)
        return false;
    for (char c : prefix)
        if (c <= ' ' || c == 0x7f || c == '*' || c == '>')
            return false;
    return true;
}

subjects::subjects(std::string p) : prefix(std::move(p)), stored_(prefix + ".topic."), live_(prefix + ".live.")
{
    if (!is_valid_prefix(prefix))
        throw std::invalid_argument("nats prefix: tokens separated by '.', no whitespace, '*' or '>'");
}

std::optional<std::string> subjects::topic_of(std::string_view subject) const
{
    for (auto const* head : {&stored_, &live_})
        if (subject.starts_with(*head))
            return topic_of_tokens(subject.substr(head->size()));
    return std::nullopt;
}

std::string subjects::stream_name() const
{
    // Stream names become directory names in the server's store: keep to [A-Za-z0-9_-].
    std::string out = prefix;
    for (auto& c : out)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            c = '_';
    return out;
}

}  // namespace switchboard::nats
