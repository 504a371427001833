// Making one message with a 100-byte JSON payload, as the memory backplane does (make_shared<message const>):
// the envelope {"type":"message","topic":T,"offset":N,"data":D} is serialized here, once per message, never per
// subscriber.

#include "allocation_counter.hpp"

#include <switchboard/message.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace {

void message_make(benchmark::State& state)
{
    std::string const topic = "chat.room-42";  // short enough for the small-string buffer: no allocation to copy
    std::string const payload = R"({"text":")" + std::string(89, 'x') + R"("})";
    switchboard::position where{0, "e1"};

    auto const allocations_before = bench::allocations();
    for (auto _ : state) {
        ++where.offset;
        auto m = std::make_shared<switchboard::message const>(topic, where, payload);
        benchmark::DoNotOptimize(m);
    }
    auto const allocations = bench::allocations() - allocations_before;

    auto const messages = static_cast<double>(state.iterations());
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
    state.counters["allocs_per_message"] = static_cast<double>(allocations) / messages;
    state.counters["payload_bytes"] = static_cast<double>(payload.size());
}

}  // namespace

BENCHMARK(message_make);
