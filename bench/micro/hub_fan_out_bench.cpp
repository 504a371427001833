// Hub fan-out of one message to N subscribed channels whose deliver() only counts: the cost the hub adds per
// extra subscriber. The message (and its envelope) is made once, outside the timed loop, as the backplane does;
// every channel receives the same message_ptr, so a delivery should cost no serialization, no payload copy and
// no allocation (allocs_per_delivery ~ 0).

#include "allocation_counter.hpp"
#include "counting_channel.hpp"

#include <switchboard/channel.hpp>
#include <switchboard/hub.hpp>
#include <switchboard/message.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

namespace {

void hub_fan_out(benchmark::State& state)
{
    auto const n = static_cast<std::size_t>(state.range(0));
    std::string const topic = "chat.room-42";
    switchboard::hub hub;
    std::vector<std::shared_ptr<counting_channel>> channels;
    channels.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        channels.push_back(std::make_shared<counting_channel>());
        hub.subscribe(*channels.back(), topic);
    }
    std::string const payload = R"({"text":")" + std::string(89, 'x') + R"("})";  // 100 bytes
    auto const m = std::make_shared<switchboard::message const>(topic, switchboard::position{1, "e1"}, payload);
    hub.deliver(m);  // warm-up: first-use growth of the hub's scratch vectors is not a per-message cost

    auto const allocations_before = bench::allocations();
    for (auto _ : state)
        hub.deliver(m);
    auto const allocations = bench::allocations() - allocations_before;

    auto const deliveries = static_cast<double>(state.iterations()) * static_cast<double>(n);
    for (auto const& ch : channels)
        if (ch->delivered != static_cast<std::uint64_t>(state.iterations()) + 1 || ch->last != m.get()) {
            state.SkipWithError("a channel missed a delivery or got another message");
            break;
        }
    state.SetItemsProcessed(static_cast<std::int64_t>(deliveries));
    state.counters["time_per_delivery"] = benchmark::Counter(deliveries, benchmark::Counter::kIsRate
        | benchmark::Counter::kInvert);
    state.counters["allocs_per_delivery"] = static_cast<double>(allocations) / deliveries;
    state.counters["envelope_bytes"] = static_cast<double>(m->envelope()->size());

    for (auto const& ch : channels)
        hub.unsubscribe_all(*ch);
}

}  // namespace

BENCHMARK(hub_fan_out)->Arg(1)->Arg(100)->Arg(10'000);
