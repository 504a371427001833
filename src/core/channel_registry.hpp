#pragma once
// Every channel channel_services::open() accepted and closed() has not seen: the registry owns them between those
// two calls, and walks them for the server's stop, the admin page, the API and the keepalive. A slot_list of
// shared_ptr, each channel's place in it kept in the channel: 16 bytes of every connection (a little more as the
// vector grows), where a hash set's node and bucket took 40.

#include <switchboard/channel.hpp>

#include "core/slot_list.hpp"

namespace switchboard::detail {

using channel_registry = slot_list<channel, channel_ptr>;

}  // namespace switchboard::detail
