#include "core/channel_registry.hpp"

#include <utility>

namespace switchboard::detail {

void channel_registry::add(channel_ptr ch)
{
    ch->registry_slot_ = static_cast<std::uint32_t>(channels_.size());
    channels_.push_back(std::move(ch));
}

bool channel_registry::remove(channel& ch)
{
    if (!contains(ch))
        return false;
    auto const slot = ch.registry_slot_;
    ch.registry_slot_ = channel::unregistered;
    // Ends as this returns, once the registry no longer refers to it.
    channel_ptr const gone = std::move(channels_[slot]);
    if (slot + 1 != channels_.size()) {
        channels_[slot] = std::move(channels_.back());
        channels_[slot]->registry_slot_ = slot;
    }
    channels_.pop_back();
    // A storm's worth of slots is not kept once most of them are gone.
    if (channels_.capacity() > 1024 && channels_.size() < channels_.capacity() / 4)
        channels_.shrink_to_fit();
    return true;
}

}  // namespace switchboard::detail
