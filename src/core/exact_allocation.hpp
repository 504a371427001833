#pragma once
// Asio allocates an operation's state with a per-thread recycling allocator that hands a freed block to the
// next operation that fits in it. Good for short operations; for ones that stay pending while a connection is
// idle (its read wait, a long poll's hold), it means each may sit in a block sized for the largest operation
// the loop ran lately (an accept, a Beast HTTP read: ~280 bytes), and idle memory per connection is what we
// promise to keep small. Binding exact_allocator makes Asio allocate exactly the operation's size.
//
// Not std::allocator: Asio maps a handler bound to std::allocator back to its recycling allocator
// (detail::get_recycling_allocator), so binding it changes nothing. Measured: every idle SSE connection held a
// 284-byte block first allocated by an accept.

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/detail/recycling_allocator.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace switchboard::detail {

template <class T>
struct exact_allocator {
    using value_type = T;

    exact_allocator() noexcept = default;
    template <class U>
    exact_allocator(exact_allocator<U> const&) noexcept  // NOLINT: rebinding, as allocators do
    {
    }

    T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }

    friend bool operator==(exact_allocator, exact_allocator) noexcept { return true; }
};

// The point of the type: Asio must take it as it is.
static_assert(std::is_same_v<boost::asio::detail::get_recycling_allocator<
                                 exact_allocator<void>, boost::asio::detail::thread_info_base::default_tag>::type,
                             exact_allocator<void>>);

template <class Handler>
auto exact_allocation(Handler&& handler)
{
    return boost::asio::bind_allocator(exact_allocator<void>(), std::forward<Handler>(handler));
}

}  // namespace switchboard::detail
