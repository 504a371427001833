#include <switchboard/topic.hpp>

namespace switchboard {

bool is_valid_topic(std::string_view topic) noexcept
{
    if (topic.empty() || topic.size() > max_topic_length)
        return false;
    for (char c : topic) {
        bool const ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == ':' || c == '@' || c == '/' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

}  // namespace switchboard
