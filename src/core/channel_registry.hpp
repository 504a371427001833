#pragma once
// Every channel channel_services::open() accepted and closed() has not seen: the registry owns them between those
// two calls, and walks them for the server's stop, the admin page and the API. A vector, with each channel's
// place in it kept in the channel: 16 bytes of every connection (a little more as the vector grows), where a hash
// set's node and bucket took 40. Order is not kept. Loop thread only.

#include <switchboard/channel.hpp>

#include <cstddef>
#include <vector>

namespace switchboard::detail {

class channel_registry {
public:
    void add(channel_ptr ch);
    /// Unregisters `ch`; false when it was not registered. `ch` may be gone when this returns (the registry may
    /// have been its last owner).
    bool remove(channel& ch);

    bool contains(channel const& ch) const noexcept
    {
        return ch.registry_slot_ < channels_.size() && channels_[ch.registry_slot_].get() == &ch;
    }
    std::size_t size() const noexcept { return channels_.size(); }
    auto begin() const noexcept { return channels_.begin(); }
    auto end() const noexcept { return channels_.end(); }

private:
    std::vector<channel_ptr> channels_;
};

}  // namespace switchboard::detail
