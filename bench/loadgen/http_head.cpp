#include "http_head.hpp"

#include <cctype>
#include <charconv>

namespace loadgen {

bool iequals_prefix(std::string_view line, std::string_view name)
{
    if (line.size() < name.size())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i])))
            return false;
    return true;
}

std::string header_value(std::string_view head, std::string_view name)
{
    std::size_t pos = 0;
    while (pos < head.size()) {
        auto eol = head.find("\r\n", pos);
        if (eol == std::string_view::npos)
            eol = head.size();
        auto line = head.substr(pos, eol - pos);
        if (iequals_prefix(line, name) && line.size() > name.size() && line[name.size()] == ':') {
            auto v = line.substr(name.size() + 1);
            while (!v.empty() && v.front() == ' ')
                v.remove_prefix(1);
            return std::string(v);
        }
        pos = eol + 2;
    }
    return {};
}

int status_code(std::string_view head)
{
    // "HTTP/1.1 200 OK"
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/")
        return 0;
    int code = 0;
    std::from_chars(head.data() + 9, head.data() + 12, code);
    return code;
}

}  // namespace loadgen
