#include <switchboard/topic.hpp>

namespace switchboard {
namespace {

bool topic_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '@' || c == '/' || c == '-';
}

// The token of `s` starting at `from`, up to the next '.' or the end.
std::string_view token_at(std::string_view s, std::size_t from) noexcept
{
    auto const end = s.find('.', from);
    return s.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from);
}

}  // namespace

bool is_valid_topic(std::string_view topic) noexcept
{
    if (topic.empty() || topic.size() > max_topic_length)
        return false;
    for (char c : topic)
        if (!topic_char(c))
            return false;
    return true;
}

std::string pattern_problem(std::string_view pattern)
{
    if (pattern.empty() || pattern.size() > max_topic_length)
        return "a pattern is 1-128 characters";
    std::size_t tokens = 0;
    bool wildcard = false;
    for (std::size_t from = 0;; ) {
        auto const token = token_at(pattern, from);
        ++tokens;
        if (token.empty())
            return "a pattern's tokens (between dots) are not empty";
        if (token == "*" || token == ">") {
            wildcard = true;
            if (token == ">" && from + 1 != pattern.size())
                return "'>' is a pattern's last token only";
        } else {
            for (char c : token)
                if (!topic_char(c))
                    return "a pattern's token is '*', '>' or characters of [A-Za-z0-9_:@/-]";
        }
        from += token.size();
        if (from == pattern.size())
            break;
        ++from;  // the dot
        if (from == pattern.size())
            return "a pattern's tokens (between dots) are not empty";
    }
    if (tokens > max_pattern_tokens)
        return "a pattern has at most " + std::to_string(max_pattern_tokens) + " tokens";
    if (!wildcard)
        return "a pattern has a wildcard token ('*' or '>'); subscribe to one topic by its name";
    return {};
}

bool is_valid_pattern(std::string_view pattern) noexcept
{
    try {
        return pattern_problem(pattern).empty();
    } catch (...) {
        return false;  // only the message's allocation can throw
    }
}

bool pattern_matches(std::string_view pattern, std::string_view topic) noexcept
{
    std::size_t p = 0;
    std::size_t t = 0;
    for (;;) {
        auto const want = token_at(pattern, p);
        if (want == ">")
            return t <= topic.size();  // one or more tokens left (an empty one counts)
        if (t > topic.size())
            return false;  // the topic has fewer tokens
        auto const got = token_at(topic, t);
        if (want != "*" && want != got)
            return false;
        p += want.size() + 1;
        t += got.size() + 1;
        if (p > pattern.size())
            return t > topic.size();  // both ended
    }
}

}  // namespace switchboard
