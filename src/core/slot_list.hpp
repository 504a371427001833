#pragma once
// A list of objects that each keep their own place in it, so that adding and removing are O(1) and an entry is
// one pointer: 8 bytes of every member (a little more as the vector grows), where a hash set's node and bucket
// take 40. `Entry` is T* (the list does not own its members) or a shared_ptr<T> (it owns them while they are
// listed: channel_registry). Order is not kept. Loop thread only.
//
// A member type declares `std::uint32_t list_slot_ = ~std::uint32_t{0};` and befriends slot_list<T, Entry>.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace switchboard::detail {

template <class T, class Entry = T*>
class slot_list {
public:
    static constexpr std::uint32_t unlisted = ~std::uint32_t{0};

    void add(Entry entry)
    {
        entry->list_slot_ = static_cast<std::uint32_t>(items_.size());
        items_.push_back(std::move(entry));
    }

    bool contains(T const& item) const noexcept
    {
        return item.list_slot_ < items_.size() && std::to_address(items_[item.list_slot_]) == &item;
    }

    /// Takes `item` out; false when it was not listed. `item` may be gone when this returns (a list that owns its
    /// members may have been its last owner).
    bool remove(T& item) noexcept
    {
        if (!contains(item))
            return false;
        auto const slot = item.list_slot_;
        item.list_slot_ = unlisted;
        // An owned member ends as this returns, once the list no longer refers to it.
        [[maybe_unused]] Entry const gone = std::move(items_[slot]);
        if (slot + 1 != items_.size()) {
            items_[slot] = std::move(items_.back());
            items_[slot]->list_slot_ = slot;
        }
        items_.pop_back();
        // A storm's worth of slots is not kept once most of them are gone.
        if (items_.capacity() > 1024 && items_.size() < items_.capacity() / 4)
            items_.shrink_to_fit();
        return true;
    }

    std::size_t size() const noexcept { return items_.size(); }
    auto begin() const noexcept { return items_.begin(); }
    auto end() const noexcept { return items_.end(); }

private:
    std::vector<Entry> items_;
};

}  // namespace switchboard::detail
