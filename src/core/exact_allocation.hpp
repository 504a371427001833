#pragma once
// Asio allocates an operation's state with a per-thread recycling allocator that hands a freed block to the
// next operation that fits in it. Good for short operations; for ones that stay pending while a connection is
// idle (its read wait, a long poll's hold), it means each may sit in a block sized for the largest operation
// the loop ran lately (a Beast HTTP read, ~300 bytes), and idle memory per connection is what we promise to
// keep small. Binding std::allocator makes Asio allocate exactly the operation's size.

#include <boost/asio/bind_allocator.hpp>

#include <memory>
#include <utility>

namespace switchboard::detail {

template <class Handler>
auto exact_allocation(Handler&& handler)
{
    return boost::asio::bind_allocator(std::allocator<void>(), std::forward<Handler>(handler));
}

}  // namespace switchboard::detail
