#include "options.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string_view>

namespace loadgen {

[[noreturn]] void usage(int code)
{
    std::cout << R"(switchboard-loadgen [options]
  --transport ws|sse|poll      subscriber transport (ws)
  --dialect switchboard|nchan|plain
                               switchboard: subscribe command / ack, cursors; nchan: channel in the path,
                               Etag/Last-Modified long polls; plain: a WebSocket that receives broadcasts
  --host H --port P            target (127.0.0.1:8080); loopback only
  --pub-port P                 publish to this port instead (another node sharing the topic, e.g. via Redis)
  --topic T                    topic name (default: a fresh one per run)
  --sub-path TEMPLATE          e.g. /ws, /sse?topic={topic}, /sub/ws/{topic}
  --pub-path TEMPLATE          HTTP publish target, e.g. /publish?topic={topic}, /pub/{topic}
  --publisher http|ws          publish with HTTP POST or switchboard's WebSocket publish command (http)
  --subscribers N              (100)
  --rate R                     messages per second (fixed rate)
  --window W                   closed loop: at most W messages not yet delivered to every subscriber
  --publishers K               HTTP publisher connections (1 at a fixed rate, min(W,8) closed-loop)
  --pipeline D                 HTTP publish requests in flight per publisher connection, pipelined on its
                               keep-alive connection and written together (1: wait for each answer)
  --duration S                 seconds of publishing (5)
  --max-messages M             bound on messages published (10,000,000)
  --payload-size B             payload bytes (100)
  --sources K                  bind round-robin to 127.0.0.1..127.0.0.K (default: 1 per 9,000 subscribers)
  --source-net N               the sources' first three numbers, 127.0.0 by default: 127.100.200 spells each
                               client's address in 19 characters or more, as a public IPv4 one is
  --connect-concurrency C      connections set up at once (500)
  --mode fanout|idle           idle: connect, measure, (hold), close; no publishing
  --settle S --drain S --hold S --timeout S
                               idle mode: the result is printed before the hold, so a reader can act while
                               the connections stay (kill another node under them); SIGTERM ends the hold
  --server-pid PID             report the server's RSS and CPU time
  --out FILE                   also write the JSON result to FILE
  --presence                   (switchboard, ws) subscribe with presence: the connect storm is a join storm;
                               the result counts the joins every member receives (events, and the joins
                               of presence_diff events), the presence_stats events of a topic past the
                               server's presence.max_event_members, and when the last came
  --presence-total N           (--presence) the members on every node when the storm is split across nodes
                               (--subscribers: this node's share); a member is told once a counts event names
                               N clients, so the share must be past presence.max_event_members (1,000)
)";
    std::exit(code);
}

options parse_options(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view const a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "missing value for " << a << "\n";
                usage(2);
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h")
            usage(0);
        else if (a == "--transport") {
            auto v = next();
            o.transport = v == "ws" ? transport_kind::ws : v == "sse" ? transport_kind::sse
                : v == "poll" ? transport_kind::poll : (usage(2), transport_kind::ws);
        } else if (a == "--dialect") {
            auto v = next();
            o.dialect = v == "switchboard" ? dialect_kind::switchboard : v == "nchan" ? dialect_kind::nchan
                : v == "plain" ? dialect_kind::plain : (usage(2), dialect_kind::plain);
        } else if (a == "--publisher") {
            auto v = next();
            o.publisher = v == "http" ? publisher_kind::http : v == "ws" ? publisher_kind::ws
                : (usage(2), publisher_kind::http);
        } else if (a == "--mode") {
            auto v = next();
            o.mode = v == "fanout" ? mode_kind::fanout : v == "idle" ? mode_kind::idle : (usage(2), mode_kind::idle);
        } else if (a == "--host") o.host = next();
        else if (a == "--port") o.port = static_cast<std::uint16_t>(std::stoul(next()));
        else if (a == "--pub-port") o.pub_port = static_cast<std::uint16_t>(std::stoul(next()));
        else if (a == "--topic") o.topic = next();
        else if (a == "--sub-path") o.sub_path = next();
        else if (a == "--pub-path") o.pub_path = next();
        else if (a == "--subscribers") o.subscribers = std::stoul(next());
        else if (a == "--rate") o.rate = std::stod(next());
        else if (a == "--window") o.window = std::stoul(next());
        else if (a == "--publishers") o.publishers = std::stoul(next());
        else if (a == "--pipeline") o.pipeline = std::max<std::size_t>(1, std::stoul(next()));
        else if (a == "--duration") o.duration = std::stod(next());
        else if (a == "--max-messages") o.max_messages = std::stoul(next());
        else if (a == "--payload-size") o.payload_size = std::stoul(next());
        else if (a == "--sources") o.sources = std::stoul(next());
        else if (a == "--source-net") o.source_net = next();
        else if (a == "--connect-concurrency") o.connect_concurrency = std::max<std::size_t>(1, std::stoul(next()));
        else if (a == "--settle") o.settle = std::stod(next());
        else if (a == "--drain") o.drain = std::stod(next());
        else if (a == "--hold") o.hold = std::stod(next());
        else if (a == "--timeout") o.timeout = std::stod(next());
        else if (a == "--server-pid") o.server_pid = std::stoi(next());
        else if (a == "--out") o.out = next();
        else if (a == "--presence") o.presence = true;
        else if (a == "--presence-total") o.presence_total = std::stoul(next());
        else {
            std::cerr << "unknown option " << a << "\n";
            usage(2);
        }
    }
    if (o.host.rfind("127.", 0) != 0) {
        std::cerr << "loopback targets only (127.0.0.x)\n";
        std::exit(2);
    }
    if (o.source_net.rfind("127.", 0) != 0) {
        std::cerr << "loopback sources only (127.x.y)\n";
        std::exit(2);
    }
    if (o.mode == mode_kind::fanout && o.rate <= 0 && o.window == 0) {
        std::cerr << "fanout needs --rate or --window\n";
        std::exit(2);
    }
    if (o.presence && (o.transport != transport_kind::ws || o.dialect != dialect_kind::switchboard)) {
        std::cerr << "--presence needs --transport ws and --dialect switchboard\n";
        std::exit(2);
    }
    if (o.presence_total == 0)
        o.presence_total = o.subscribers;
    // Every loop is bounded in time as well as in count.
    o.duration = std::clamp(o.duration, 0.0, 600.0);
    o.timeout = std::clamp(o.timeout, 1.0, 1800.0);
    o.hold = std::clamp(o.hold, 0.0, 600.0);
    if (o.topic.empty()) {
        std::random_device rd;
        o.topic = "bench" + std::to_string(rd() % 1'000'000'000);
    }
    if (o.sub_path.empty()) {
        switch (o.dialect) {
        case dialect_kind::switchboard:
            o.sub_path = o.transport == transport_kind::ws ? "/ws"
                : o.transport == transport_kind::sse ? "/sse?topic={topic}" : "/poll?topic={topic}";
            break;
        case dialect_kind::nchan:
            o.sub_path = o.transport == transport_kind::ws ? "/sub/ws/{topic}"
                : o.transport == transport_kind::sse ? "/sub/sse/{topic}" : "/sub/lp/{topic}";
            break;
        case dialect_kind::plain: o.sub_path = "/ws/{topic}"; break;
        }
    }
    if (o.pub_path.empty())
        o.pub_path = o.dialect == dialect_kind::switchboard ? "/publish?topic={topic}" : "/pub/{topic}";
    if (o.sources == 0)
        o.sources = std::max<std::size_t>(1, (o.subscribers + 8'999) / 9'000);
    o.sources = std::min<std::size_t>(o.sources, 250);
    return o;
}

std::string expand(std::string const& tmpl, std::string const& topic)
{
    std::string out = tmpl;
    for (auto pos = out.find("{topic}"); pos != std::string::npos; pos = out.find("{topic}", pos + topic.size()))
        out.replace(pos, 7, topic);
    return out;
}

}  // namespace loadgen
