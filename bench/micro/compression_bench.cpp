// permessage-deflate: what compressing a message costs and saves, shared (switchboard: once per message, no
// context takeover, every subscriber gets the same frame) against per connection (a server that keeps each
// connection's zlib context, as Node's ws and most WebSocket servers do: one compression per delivery, a smaller
// frame for a stream of similar documents, a 32 KB+ window per connection).
//
// The message is a ~1 KB JSON document of which a few values change from one version to the next (prices).
// Delta updates beside them: the same versions as Fossil deltas against the previous one, computed once per
// message and shared (message::delta_envelope), and applied by a client.
// Counter bytes_per_delivery: the frame's payload after compression (without its 2-4 header bytes), or the delta
// envelope's.
//   build-bench/bench/micro/switchboard-micro --benchmark_filter='deflate|delta|plain_frame|inflate'

#include "core/fossil_delta.hpp"
#include "websocket/permessage_deflate.hpp"

#include <switchboard/message.hpp>

#include <benchmark/benchmark.h>
#include <zlib.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

// Versions of one document: 12 rows, two prices changing a little each time.
std::vector<std::string> const& documents()
{
    static std::vector<std::string> const all = [] {
        std::vector<std::string> out;
        std::mt19937 rng(3);
        std::vector<int> prices(12, 10'000);
        for (int v = 0; v < 256; ++v) {
            prices[rng() % 12] += static_cast<int>(rng() % 21) - 10;
            prices[rng() % 12] += static_cast<int>(rng() % 21) - 10;
            std::string d = R"({"type":"message","topic":"prices.eu","offset":)" + std::to_string(v + 1) +
                            R"(,"data":{"version":)" + std::to_string(v) + R"(,"rows":[)";
            for (int i = 0; i < 12; ++i) {
                if (i)
                    d += ',';
                d += R"({"symbol":"SYM)" + std::to_string(i) + R"(","price":)" + std::to_string(prices[i] / 100) +
                     "." + std::to_string(prices[i] % 100) +
                     R"(,"currency":"EUR","exchange":"XETRA","updated":"2026-12-04T12:00:00Z"})";
            }
            out.push_back(d + "]}}");
        }
        return out;
    }();
    return all;
}

double average_size()
{
    double total = 0;
    for (auto const& d : documents())
        total += static_cast<double>(d.size());
    return total / static_cast<double>(documents().size());
}

// Uncompressed: the reference for the bytes.
void plain_frame(benchmark::State& state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(documents().front().size());
    state.counters["bytes_per_delivery"] = average_size();
}

// Shared: one compression per message whatever the number of subscribers (time per iteration = per message;
// per delivery it is that divided by the subscribers).
void deflate_shared(benchmark::State& state)
{
    int const level = static_cast<int>(state.range(0));
    std::size_t i = 0, bytes = 0, messages = 0;
    for (auto _ : state) {
        auto const z = switchboard::websocket::deflate_message(documents()[i++ % documents().size()], level);
        bytes += z.size();
        ++messages;
        benchmark::DoNotOptimize(z.data());
    }
    state.counters["bytes_per_delivery"] = static_cast<double>(bytes) / static_cast<double>(messages);
}

// Per connection with context takeover: every delivery is a compression in that connection's stream (time per
// iteration = per delivery).
void deflate_per_connection(benchmark::State& state)
{
    int const level = static_cast<int>(state.range(0));
    std::size_t const connections = 16;  // rotated: each keeps its own window, as a server with context does
    std::vector<std::unique_ptr<z_stream>> streams;
    for (std::size_t c = 0; c < connections; ++c) {
        streams.push_back(std::make_unique<z_stream>());
        deflateInit2(streams.back().get(), level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    }
    std::string out(64 * 1024, '\0');
    std::size_t i = 0, bytes = 0, deliveries = 0;
    for (auto _ : state) {
        auto& z = *streams[i % connections];
        auto const& doc = documents()[(i / connections) % documents().size()];
        ++i;
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(doc.data()));
        z.avail_in = static_cast<uInt>(doc.size());
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        deflate(&z, Z_SYNC_FLUSH);
        bytes += out.size() - z.avail_out - 4;
        ++deliveries;
        benchmark::DoNotOptimize(out.data());
    }
    for (auto& z : streams)
        deflateEnd(z.get());
    state.counters["bytes_per_delivery"] = static_cast<double>(bytes) / static_cast<double>(deliveries);
}

// A client's compressed command inflated (the server's side of client-to-server compression).
void inflate_command(benchmark::State& state)
{
    auto const z = switchboard::websocket::deflate_message(documents().front(), 6);
    std::string out;
    for (auto _ : state) {
        auto const status = switchboard::websocket::inflate_message(z, 64 * 1024, out);
        benchmark::DoNotOptimize(status);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(documents().front().size()));
}

// The documents' data members, as messages of one topic in a row.
std::vector<switchboard::message_ptr> messages()
{
    std::vector<switchboard::message_ptr> out;
    for (std::size_t v = 0; v < documents().size(); ++v) {
        auto const& d = documents()[v];
        auto const from = d.find(R"("data":)") + 7;
        out.push_back(std::make_shared<switchboard::message const>(
            "prices.eu", switchboard::position{v + 1, "e"}, std::string_view(d).substr(from, d.size() - from - 1)));
    }
    return out;
}

// Shared delta: one Fossil delta per message against the one before, whatever the number of subscribers (time per
// iteration = per message). Each iteration builds it in a fresh message, as each new message does.
void delta_shared(benchmark::State& state)
{
    auto const all = messages();
    std::size_t i = 0, bytes = 0, deltas = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto const n = 1 + i++ % (all.size() - 1);
        auto const fresh = std::make_shared<switchboard::message const>(all[n]->topic(), all[n]->where(), all[n]->data());
        state.ResumeTiming();
        auto const& envelope = fresh->delta_envelope(*all[n - 1]);
        bytes += envelope->size();
        ++deltas;
        benchmark::DoNotOptimize(envelope.get());
    }
    state.counters["bytes_per_delivery"] = static_cast<double>(bytes) / static_cast<double>(deltas);
}

// The client's side: applying a delta to the previous payload (what switchboard.js does in JavaScript).
void delta_apply(benchmark::State& state)
{
    auto const all = messages();
    auto const delta = switchboard::detail::make_delta(all[0]->data(), all[1]->data());
    for (auto _ : state)
        benchmark::DoNotOptimize(switchboard::detail::apply_delta(all[0]->data(), delta));
}

}  // namespace

BENCHMARK(plain_frame);
BENCHMARK(delta_shared);
BENCHMARK(delta_apply);
BENCHMARK(deflate_shared)->Arg(1)->Arg(6)->Arg(9)->ArgName("level");
BENCHMARK(deflate_per_connection)->Arg(1)->Arg(6)->Arg(9)->ArgName("level");
BENCHMARK(inflate_command);
