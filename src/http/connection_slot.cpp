#include "http/connection_slot.hpp"

#include <utility>

namespace switchboard::detail {

connection_slot::connection_slot(connection_counts& counts, std::string address)
    : entry_(&*counts.by_address.try_emplace(std::move(address)).first)
{
    entry_->second.counts = &counts;
    ++counts.total;
    ++entry_->second.connections;
}

connection_slot::connection_slot(connection_slot&& other) noexcept
    : entry_(std::exchange(other.entry_, nullptr))
{
}

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept
{
    if (this != &other) {
        release();
        entry_ = std::exchange(other.entry_, nullptr);
    }
    return *this;
}

connection_slot::~connection_slot()
{
    release();
}

std::size_t connection_counts::at(std::string const& address) const
{
    auto it = by_address.find(address);
    return it == by_address.end() ? 0 : it->second.connections;
}

void connection_slot::release() noexcept
{
    if (!entry_)
        return;
    auto* const entry = std::exchange(entry_, nullptr);
    auto& counts = *entry->second.counts;
    --counts.total;
    if (--entry->second.connections == 0)
        counts.by_address.erase(counts.by_address.find(entry->first));
}

}  // namespace switchboard::detail
