#include "http/connection_slot.hpp"

#include <utility>

namespace switchboard::detail {

connection_slot::connection_slot(connection_counts& counts, std::string address)
    : counts_(&counts), address_(std::move(address))
{
    ++counts_->total;
    ++counts_->by_address[address_];
}

connection_slot::connection_slot(connection_slot&& other) noexcept
    : counts_(std::exchange(other.counts_, nullptr)), address_(std::move(other.address_))
{
}

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept
{
    if (this != &other) {
        release();
        counts_ = std::exchange(other.counts_, nullptr);
        address_ = std::move(other.address_);
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
    auto it = counts_->by_address.find(address_);
    if (it != counts_->by_address.end() && --it->second == 0)
        counts_->by_address.erase(it);
    counts_ = nullptr;
}

}  // namespace switchboard::detail
