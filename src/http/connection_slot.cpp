#include "http/connection_slot.hpp"

#include <utility>

namespace switchboard::detail {

connection_slot::connection_slot(connection_counts& counts, std::string address)
    : counts_(&counts), entry_(&*counts.by_address.try_emplace(std::move(address)).first)
{
    ++counts_->total;
    ++entry_->second;
}

connection_slot::connection_slot(connection_slot&& other) noexcept
    : counts_(std::exchange(other.counts_, nullptr)), entry_(std::exchange(other.entry_, nullptr))
{
}

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept
{
    if (this != &other) {
        release();
        counts_ = std::exchange(other.counts_, nullptr);
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
    return it == by_address.end() ? 0 : it->second;
}

void connection_slot::release() noexcept
{
    if (!counts_)
        return;
    --counts_->total;
    if (--entry_->second == 0)
        counts_->by_address.erase(counts_->by_address.find(entry_->first));
    counts_ = nullptr;
    entry_ = nullptr;
}

}  // namespace switchboard::detail
