// Subscribing one channel to one more topic, asking whether it is subscribed, and leaving it again, when the
// channel already has N subscriptions: the hub finds a channel's subscription in O(1) (a search of a few
// entries for a small channel, an index for a larger one), so time_per_subscribe stays flat as N grows. The
// topics exist already (another channel holds them), so what is timed is the bookkeeping, not a new topic.

#include "allocation_counter.hpp"

#include <switchboard/channel.hpp>
#include <switchboard/hub.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

namespace {

class idle_channel final : public switchboard::channel {
public:
    idle_channel() : channel("127.0.0.1:0") {}

    std::string_view transport() const noexcept override { return "idle"; }
    switchboard::delivery_status deliver(switchboard::message_ptr const&) override
    {
        return switchboard::delivery_status::queued;
    }
    void close(switchboard::disconnect const&) override { begin_closing(); }
};

void hub_subscribe(benchmark::State& state)
{
    auto const n = static_cast<std::size_t>(state.range(0));
    switchboard::hub hub;
    auto const ch = std::make_shared<idle_channel>();
    auto const holder = std::make_shared<idle_channel>();
    for (std::size_t i = 0; i < n; ++i)
        hub.subscribe(*ch, "held." + std::to_string(i));
    std::vector<std::string> topics;
    for (std::size_t i = 0; i < 1'024; ++i) {
        topics.push_back("extra." + std::to_string(i));
        hub.subscribe(*holder, topics.back());
    }

    std::size_t next = 0;
    auto const allocations_before = bench::allocations();
    for (auto _ : state) {
        auto const& topic = topics[next++ % topics.size()];
        hub.subscribe(*ch, topic);
        benchmark::DoNotOptimize(hub.subscribed(*ch, topic));
        hub.unsubscribe(*ch, topic);
    }
    auto const allocations = bench::allocations() - allocations_before;
    if (ch->subscription_count() != n)
        state.SkipWithError("the channel's subscriptions changed");
    state.SetItemsProcessed(state.iterations());
    state.counters["time_per_subscribe"] = benchmark::Counter(
        static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["allocs_per_subscribe"] = static_cast<double>(allocations) / static_cast<double>(state.iterations());
    hub.unsubscribe_all(*ch);
    hub.unsubscribe_all(*holder);
}

}  // namespace

// 16 is the last size searched (and the subscribe past it indexes the channel), 17 the first indexed.
BENCHMARK(hub_subscribe)->Arg(0)->Arg(15)->Arg(16)->Arg(17)->Arg(1'000)->Arg(40'000)->Arg(200'000);
