#include "server_context.hpp"

#include <switchboard/error.hpp>

namespace switchboard::detail {

boost::system::error_code server_context::admit(std::string const& address, connection_slot& slot,
                                                std::chrono::milliseconds& retry_after)
{
    if (connections.total >= options.max_connections ||
        connections.at(address) >= options.max_connections_per_address)
        return error::too_many_connections;
    if (auto ec = authorizer.take_connection(address, retry_after))
        return ec;
    slot = connection_slot(connections, address);
    return {};
}

}  // namespace switchboard::detail
