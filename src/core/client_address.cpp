#include "core/client_address.hpp"

namespace switchboard::detail {

std::string_view client_ip(std::string_view remote_address) noexcept
{
    if (remote_address.size() > 1 && remote_address.front() == '[') {
        auto const close = remote_address.find(']');
        if (close != std::string_view::npos)
            return remote_address.substr(1, close - 1);
    }
    auto const colon = remote_address.rfind(':');
    return colon == std::string_view::npos ? remote_address : remote_address.substr(0, colon);
}

std::string client_key(identity const& who, std::string_view remote_address)
{
    if (who.authenticated)
        return "user:" + who.user;
    return "ip:" + std::string(client_ip(remote_address));
}

}  // namespace switchboard::detail
