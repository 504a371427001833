// The cost of pattern subscriptions to a publish: one message to a topic with 10 exact subscribers while 0,
// 1,000 or 100,000 patterns are live on the node (each its own channel). With none, the hub tests one counter
// and takes the exact path (compare with hub_fan_out); with many, one walk of the token trie per message, whose
// cost follows the topic's tokens and the patterns sharing its prefixes, not the number of patterns:
//   spread:  the patterns are rooms' own (`room-<i>.*`, `room-<i>.>`, `*.room-<i>`): none matches, the walk
//            finds nothing under the topic's first token but the `*` branch (`*.room-<i>` holds 1/3 of them);
//   shared:  the patterns all start with the topic's first token (`chat.lobby-<i>.*`): the literal lookup is
//            one hash probe whatever their number.
// Three of the live patterns always match the topic (`chat.>`, `chat.*.msg`, `*.room-42.*`), on three more
// channels, and one exact subscriber has `chat.>` too: 13 deliveries a message, no duplicate.

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

void publish_with_patterns_live(benchmark::State& state, bool shared)
{
    auto const patterns = static_cast<std::size_t>(state.range(0));
    std::string const topic = "chat.room-42.msg";
    switchboard::hub hub;
    std::vector<std::shared_ptr<counting_channel>> channels;
    for (int i = 0; i < 10; ++i) {
        channels.push_back(std::make_shared<counting_channel>());
        hub.subscribe(*channels.back(), topic);
    }
    if (patterns > 0) {
        char const* const matching[] = {"chat.>", "chat.*.msg", "*.room-42.*"};
        for (char const* p : matching) {
            channels.push_back(std::make_shared<counting_channel>());
            hub.subscribe_pattern(*channels.back(), p);
        }
        hub.subscribe_pattern(*channels[0], "chat.>");  // a duplicate the hub must drop
        for (std::size_t i = 3; i < patterns; ++i) {
            channels.push_back(std::make_shared<counting_channel>());
            std::string const room = "room-" + std::to_string(i);
            std::string p = shared ? "chat.lobby-" + std::to_string(i) + ".*"
                            : i % 3 == 0 ? room + ".*" : i % 3 == 1 ? room + ".>" : "*." + room;
            hub.subscribe_pattern(*channels.back(), p);
        }
    }
    std::string const payload = R"({"text":")" + std::string(89, 'x') + R"("})";
    auto const m = std::make_shared<switchboard::message const>(topic, switchboard::position{1, "e1"}, payload);
    hub.deliver(m);

    auto const deliveries_before = hub.deliveries();
    auto const allocations_before = bench::allocations();
    for (auto _ : state)
        hub.deliver(m);
    auto const allocations = bench::allocations() - allocations_before;
    auto const per_message = static_cast<double>(hub.deliveries() - deliveries_before) /
                             static_cast<double>(state.iterations());
    if (per_message != (patterns > 0 ? 13.0 : 10.0))
        state.SkipWithError("wrong number of deliveries per message");
    state.SetItemsProcessed(state.iterations());
    state.counters["deliveries_per_message"] = per_message;
    state.counters["allocs_per_message"] = static_cast<double>(allocations) / static_cast<double>(state.iterations());
    state.counters["patterns_live"] = static_cast<double>(hub.pattern_count());
    for (auto const& ch : channels)
        hub.unsubscribe_all(*ch);
}

void spread(benchmark::State& state) { publish_with_patterns_live(state, false); }
void shared(benchmark::State& state) { publish_with_patterns_live(state, true); }

}  // namespace

BENCHMARK(spread)->Name("publish_with_patterns_live/spread")->Arg(0)->Arg(1'000)->Arg(100'000);
BENCHMARK(shared)->Name("publish_with_patterns_live/shared")->Arg(0)->Arg(1'000)->Arg(100'000);
