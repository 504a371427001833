#pragma once
// A vector of trivial entries that keeps its first one in place, for what most owners hold exactly one of (a
// channel's subscriptions): 24 bytes where boost's small_vector<T, 1> takes 40. It grows by doubling, and keeps
// its block once it has one, as a vector does.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace switchboard::detail {

template <class T>
class inplace_list {
    static_assert(std::is_trivial_v<T>);

public:
    inplace_list() noexcept : u_{} {}
    inplace_list(inplace_list&& other) noexcept : size_(other.size_), capacity_(other.capacity_)
    {
        std::memcpy(static_cast<void*>(&u_), &other.u_, sizeof u_);
        other.size_ = 0;
        other.capacity_ = 1;
    }
    inplace_list& operator=(inplace_list&& other) noexcept
    {
        if (this != &other) {
            release();
            std::memcpy(static_cast<void*>(&u_), &other.u_, sizeof u_);
            size_ = std::exchange(other.size_, 0);
            capacity_ = std::exchange(other.capacity_, 1);
        }
        return *this;
    }
    inplace_list(inplace_list const&) = delete;
    inplace_list& operator=(inplace_list const&) = delete;
    ~inplace_list() { release(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T* begin() noexcept { return data(); }
    T* end() noexcept { return data() + size_; }
    T const* begin() const noexcept { return data(); }
    T const* end() const noexcept { return data() + size_; }
    T& operator[](std::size_t i) noexcept { return data()[i]; }
    T const& operator[](std::size_t i) const noexcept { return data()[i]; }
    T& back() noexcept { return data()[size_ - 1]; }

    void push_back(T const& value)
    {
        T const copy = value;  // `value` may be an entry of this list, and the block may move
        if (size_ == capacity_) {
            auto const grown = capacity_ * 2;
            auto* block = static_cast<T*>(::operator new(sizeof(T) * grown));
            std::memcpy(static_cast<void*>(block), data(), sizeof(T) * size_);
            release();
            u_.many = block;
            capacity_ = grown;
        }
        data()[size_++] = copy;
    }
    void pop_back() noexcept { --size_; }
    /// Empties the list; its block, if it has one, stays.
    void clear() noexcept { size_ = 0; }

private:
    T* data() noexcept { return capacity_ == 1 ? &u_.one : u_.many; }
    T const* data() const noexcept { return capacity_ == 1 ? &u_.one : u_.many; }
    void release() noexcept
    {
        if (capacity_ > 1)
            ::operator delete(u_.many);
    }

    union storage {
        T one;
        T* many;
    } u_;
    std::uint32_t size_ = 0;
    std::uint32_t capacity_ = 1;  // 1: the entry in place; more: u_.many holds that many
};

}  // namespace switchboard::detail
