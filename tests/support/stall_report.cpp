// Alone in its file: <linux/tcp.h> has tcp_info's newer fields and clashes with <netinet/tcp.h>, which Asio
// includes.
#include "support/stall_report.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace switchboard::test {
namespace {

std::string read_all(std::filesystem::path const& file)
{
    std::ifstream in(file);
    std::ostringstream out;
    out << in.rdbuf();
    auto text = out.str();
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    return text;
}

// /proc/net/tcp's lines for either end of the connection on `port` (the client's local port): the server's end
// has it as the remote port.
std::string tcp_lines(unsigned port)
{
    char hex[8];
    std::snprintf(hex, sizeof hex, ":%04X", port);
    std::istringstream table(read_all("/proc/net/tcp"));
    std::string line;
    std::getline(table, line);
    std::string out = "  " + line + "\n";
    while (std::getline(table, line))
        if (line.find(hex) != std::string::npos)
            out += "  " + line + "\n";
    return out;
}

}  // namespace

std::string connection_report(int client_socket)
{
    std::string out;
    sockaddr_in local{};
    socklen_t size = sizeof local;
    if (::getsockname(client_socket, reinterpret_cast<sockaddr*>(&local), &size) == 0)
        out += tcp_lines(ntohs(local.sin_port));
    tcp_info info{};
    size = sizeof info;
    if (::getsockopt(client_socket, IPPROTO_TCP, TCP_INFO, &info, &size) == 0)
        out += "  client: probes " + std::to_string(info.tcpi_probes) + ", backoff " +
               std::to_string(info.tcpi_backoff) + ", unacked " + std::to_string(info.tcpi_unacked) +
               ", snd_cwnd " + std::to_string(info.tcpi_snd_cwnd) + "\n";
    return out;
}

std::string threads_report(pid_t pid)
{
    std::string out;
    std::error_code ec;
    for (auto const& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        auto const stat = read_all(task.path() / "stat");
        auto const state = stat.rfind(") ");
        out += "  thread " + task.path().filename().string() + ": state " +
               (state == std::string::npos ? "?" : stat.substr(state + 2, 1)) + ", wchan " +
               read_all(task.path() / "wchan") + ", syscall " + read_all(task.path() / "syscall") + "\n";
    }
    return out;
}

}  // namespace switchboard::test
