#pragma once
// A list of objects that each keep their own place in it, so that adding and removing are O(1) and an entry is
// one pointer: 8 bytes of every member (a little more as the vector grows), where a hash set's node and bucket
// take 40. The list does not own its members, and order is not kept. Loop thread only.
//
// A member type declares `std::uint32_t list_slot_ = slot_list<T>::unlisted;` and befriends slot_list<T>.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace switchboard::detail {

template <class T>
class slot_list {
public:
    static constexpr std::uint32_t unlisted = ~std::uint32_t{0};

    void add(T& item)
    {
        item.list_slot_ = static_cast<std::uint32_t>(items_.size());
        items_.push_back(&item);
    }

    /// Takes `item` out; nothing when it is not listed.
    void remove(T& item) noexcept
    {
        auto const slot = item.list_slot_;
        if (slot >= items_.size() || items_[slot] != &item)
            return;
        item.list_slot_ = unlisted;
        items_[slot] = items_.back();
        items_[slot]->list_slot_ = slot;
        items_.pop_back();
        // A storm's worth of slots is not kept once most of them are gone.
        if (items_.capacity() > 1024 && items_.size() < items_.capacity() / 4)
            items_.shrink_to_fit();
    }

    std::size_t size() const noexcept { return items_.size(); }
    auto begin() const noexcept { return items_.begin(); }
    auto end() const noexcept { return items_.end(); }

private:
    std::vector<T*> items_;
};

}  // namespace switchboard::detail
