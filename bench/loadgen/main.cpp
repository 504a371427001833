// switchboard-loadgen: a load generator for pub/sub servers (switchboard and its peers).
//
// It opens N subscribers of one transport (WebSocket, SSE or long polling) to one topic, then publishes at a fixed
// rate or closed-loop (a window of messages in flight), and prints one JSON object: deliveries, loss, latency
// percentiles (publisher timestamp in the payload, steady_clock on the same machine), deliveries/s, bytes on the
// wire per delivery, its own CPU time (getrusage) and, given --server-pid, the server's CPU time and RSS.
//
// Its client code is its own (no code shared with switchboard's transports, so it can catch their bugs): a
// hand-written HTTP/1.1 client and WebSocket upgrade, its own RFC 6455 frame reader, an SSE line reader and a
// long-poll loop. One thread, one io_context; every socket is read with a readiness wait plus non-blocking reads
// into one shared buffer, so an idle subscriber holds a socket and a few fields.
//
//   switchboard-loadgen --transport ws --port 8080 --subscribers 1000 --rate 100 --duration 5
//   switchboard-loadgen --transport sse --port 8080 --subscribers 1000 --window 8 --duration 5
//   switchboard-loadgen --transport ws --port 8080 --subscribers 10000 --mode idle --server-pid 1234
//
// Paths are templates where {topic} is replaced, so the same tool drives Nchan and a Node `ws` server:
//   --sub-path '/sub/ws/{topic}' --pub-path '/pub/{topic}' --dialect nchan
// Run `switchboard-loadgen --help` for every option.


#include "options.hpp"
#include "run.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv)
{
    try {
        loadgen::run r(loadgen::parse_options(argc, argv));
        return r.execute();
    } catch (std::exception const& e) {
        std::cerr << "switchboard-loadgen: " << e.what() << "\n";
        return 1;
    }
}
