// A cursor's text form, written (every SSE event id, every poll answer) and read (every resuming request), with
// 1 and 8 topics.

#include "allocation_counter.hpp"

#include <switchboard/cursor.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace {

switchboard::cursor make_cursor(std::size_t topics)
{
    switchboard::cursor c;
    for (std::size_t i = 0; i < topics; ++i)
        c.push_back({"chat.room-" + std::to_string(i), {1'000'000 + i, "k3x9q2"}});
    return c;
}

void report(benchmark::State& state, std::uint64_t allocations)
{
    state.SetItemsProcessed(state.iterations());
    state.counters["allocs_per_op"] = static_cast<double>(allocations) / static_cast<double>(state.iterations());
}

void cursor_encode(benchmark::State& state)
{
    auto const c = make_cursor(static_cast<std::size_t>(state.range(0)));
    auto const allocations_before = bench::allocations();
    for (auto _ : state) {
        auto text = switchboard::encode_cursor(c);
        benchmark::DoNotOptimize(text);
    }
    report(state, bench::allocations() - allocations_before);
}

void cursor_decode(benchmark::State& state)
{
    auto const text = switchboard::encode_cursor(make_cursor(static_cast<std::size_t>(state.range(0))));
    auto const allocations_before = bench::allocations();
    for (auto _ : state) {
        switchboard::cursor c;
        auto const ec = switchboard::decode_cursor(text, c, 128);
        benchmark::DoNotOptimize(c);
        if (ec) {
            state.SkipWithError("decode_cursor refused its own encoding");
            break;
        }
    }
    report(state, bench::allocations() - allocations_before);
}

}  // namespace

BENCHMARK(cursor_encode)->Arg(1)->Arg(8);
BENCHMARK(cursor_decode)->Arg(1)->Arg(8);
