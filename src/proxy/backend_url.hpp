#pragma once
// A proxy hook's backend address, "http://HOST[:PORT]/PATH", taken apart once when the hooks are installed.
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::detail {

struct backend_url {
    std::string host;    // a name or an IP address (IPv6 without its brackets)
    std::string port;    // "80" when the URL names none
    std::string target;  // the path and query, "/" at least
    std::string authority;  // the Host field: HOST[:PORT] as the URL wrote it
};

/// The URL taken apart, or nothing with the reason in `why`. Only plain http: the backend is the application's
/// own service beside the server (docs/integration.md).
std::optional<backend_url> parse_backend_url(std::string_view url, std::string& why);

}  // namespace switchboard::detail
