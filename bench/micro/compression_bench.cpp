// permessage-deflate: what compressing a message costs and saves, shared (switchboard: once per message, no
// context takeover, every subscriber gets the same frame) against per connection (a server that keeps each
// connection's zlib context, as Node's ws and most WebSocket servers do: one compression per delivery, a smaller
// frame for a stream of similar documents, a 32 KB+ window per connection).
//
// The message is a ~1 KB JSON document of which a few values change from one version to the next (prices).
// Counter bytes_per_delivery: the frame's payload after compression (without its 2-4 header bytes).
//   build-bench/bench/micro/switchboard-micro --benchmark_filter=deflate

#include "websocket/permessage_deflate.hpp"

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

}  // namespace

BENCHMARK(plain_frame);
BENCHMARK(deflate_shared)->Arg(1)->Arg(6)->Arg(9)->ArgName("level");
BENCHMARK(deflate_per_connection)->Arg(1)->Arg(6)->Arg(9)->ArgName("level");
BENCHMARK(inflate_command);
