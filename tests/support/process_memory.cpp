#include "support/process_memory.hpp"

#include <fstream>
#include <string>

namespace switchboard::test {

std::optional<process_memory> memory_of(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in)
        return std::nullopt;
    process_memory out;
    bool rss = false;
    bool hwm = false;
    std::string line;
    // "VmRSS:	   12345 kB"
    auto kib = [](std::string const& l) { return std::stoull(l.substr(l.find(':') + 1)) * 1024; };
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:")) {
            out.resident = kib(line);
            rss = true;
        } else if (line.starts_with("VmHWM:")) {
            out.peak_resident = kib(line);
            hwm = true;
        }
    }
    if (!rss || !hwm)
        return std::nullopt;
    return out;
}

}  // namespace switchboard::test
