// The replaced global operator new and delete behind bench::allocations(). The nothrow and array forms of the
// standard library call these, so every allocation is counted once.

#include "allocation_counter.hpp"

#include <cstdlib>
#include <new>

namespace {
std::uint64_t allocations_ = 0;
}

std::uint64_t bench::allocations() noexcept
{
    return allocations_;
}

void* operator new(std::size_t size)
{
    ++allocations_;
    if (void* p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}

void* operator new(std::size_t size, std::align_val_t align)
{
    ++allocations_;
    auto const a = static_cast<std::size_t>(align);
    // aligned_alloc wants a size that is a multiple of the alignment.
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a))
        return p;
    throw std::bad_alloc();
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
