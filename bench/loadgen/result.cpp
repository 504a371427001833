// The JSON result: set-up figures, then (fanout) deliveries, loss, latency, wire bytes and CPU, then the run's
// errors. Keys print in nlohmann::json's (sorted) order.

#include "run.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>

namespace loadgen {

nlohmann::json run::set_up_result(std::size_t subscribed, double connect_seconds, double server_cpu_connect) const
{
    nlohmann::json j;
    j["transport"] = opt_.transport == transport_kind::ws ? "ws" : opt_.transport == transport_kind::sse ? "sse" : "poll";
    j["dialect"] = opt_.dialect == dialect_kind::switchboard ? "switchboard"
        : opt_.dialect == dialect_kind::nchan ? "nchan" : "plain";
    j["mode"] = opt_.mode == mode_kind::fanout ? "fanout" : "idle";
    j["subscribers"] = opt_.subscribers;
    j["subscribed"] = subscribed;
    j["sources"] = opt_.sources;
    j["connect"] = {{"seconds", connect_seconds},
        {"per_second", connect_seconds > 0 ? static_cast<double>(subscribed) / connect_seconds : 0},
        {"server_cpu_seconds", server_cpu_connect}};
    if (opt_.server_pid > 0)
        j["server_rss"] = {{"before", rss_before_}, {"after", rss_after_},
            {"per_connection", subscribed ? static_cast<double>(rss_after_ - rss_before_) / static_cast<double>(subscribed) : 0}};
    return j;
}

// Called once the drain is over, with the CPU readings taken.
void run::add_fanout_result(nlohmann::json& j, std::size_t subscribed)
{
    std::uint64_t expected = 0, received = 0, duplicates = 0, reordered = 0, lost = 0, subs_with_loss = 0;
    std::size_t closed = 0;
    for (auto& s : subs_) {
        if (s->state == connection::phase::closed)
            ++closed;
        expected += published_ok_;
        received += s->received;
        duplicates += s->duplicates;
        reordered += s->reordered;
        auto const l = published_ok_ > s->received ? published_ok_ - s->received : 0;
        lost += l;
        subs_with_loss += l > 0;
    }
    // Subscribers that never became ready expected nothing.
    expected -= published_ok_ * (opt_.subscribers - subscribed);
    lost -= std::min(lost, published_ok_ * (opt_.subscribers - subscribed));
    auto const span = static_cast<double>((last_delivery_ns_ > publish_start_ns_ ? last_delivery_ns_ : now_ns())
                          - publish_start_ns_) / 1e9;
    auto const publish_span = static_cast<double>(publish_end_ns_ - publish_start_ns_) / 1e9;
    auto const ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
    double const d = deliveries_ ? static_cast<double>(deliveries_) : 1.0;
    j["publish"] = {{"rate", opt_.rate}, {"window", opt_.window}, {"publishers", pubs_.size() - 1}, {"pipeline", opt_.pipeline},
        {"via", opt_.publisher == publisher_kind::ws ? "ws" : "http"}, {"published", published_ok_},
        {"errors", publish_errors_}, {"seconds", publish_span},
        {"messages_per_second", publish_span > 0 ? static_cast<double>(published_ok_) / publish_span : 0},
        {"max_backlog", max_backlog_}, {"unsent", unsent_}, {"payload_bytes", payload(1).size()}};
    j["deliveries"] = deliveries_;
    j["expected"] = expected;
    j["lost"] = lost;
    j["subscribers_with_loss"] = subs_with_loss;
    j["duplicates"] = duplicates;
    j["reordered"] = reordered;
    j["subscribers_closed"] = closed;
    j["deliveries_per_second"] = span > 0 ? static_cast<double>(deliveries_) / span : 0;
    j["latency_ms"] = {{"p50", ms(latency_.percentile(50))}, {"p90", ms(latency_.percentile(90))},
        {"p99", ms(latency_.percentile(99))}, {"max", ms(latency_.max())}, {"mean", latency_.mean() / 1000}};
    j["wire_bytes"] = {{"subscribers_rx", sub_bytes_.rx}, {"subscribers_tx", sub_bytes_.tx},
        {"publisher_rx", pub_bytes_.rx}, {"publisher_tx", pub_bytes_.tx},
        {"server_to_subscriber_per_delivery", static_cast<double>(sub_bytes_.rx) / d},
        {"subscriber_to_server_per_delivery", static_cast<double>(sub_bytes_.tx) / d},
        {"publisher_per_delivery", static_cast<double>(pub_bytes_.rx + pub_bytes_.tx) / d},
        {"total_per_delivery", static_cast<double>(sub_bytes_.rx + sub_bytes_.tx + pub_bytes_.rx + pub_bytes_.tx) / d}};
    auto const wall = static_cast<double>(now_ns() - publish_start_ns_) / 1e9;
    j["loadgen_cpu"] = {{"seconds", cpu_end_ - cpu_start_}, {"wall_seconds", wall},
        {"utilization", wall > 0 ? (cpu_end_ - cpu_start_) / wall : 0}};
    if (opt_.server_pid > 0)
        j["server_cpu"] = {{"seconds", server_cpu_end_ - server_cpu_start_},
            {"utilization", wall > 0 ? (server_cpu_end_ - server_cpu_start_) / wall : 0}};
}

void run::add_run_result(nlohmann::json& j) const
{
    j["failed_connections"] = failed_;
    j["errors"] = errors_;
    j["timed_out"] = timed_out_;
    j["topic"] = opt_.topic;
}

void run::write_result(nlohmann::json const& j) const
{
    std::cout << j.dump() << std::endl;
    if (!opt_.out.empty()) {
        std::ofstream f(opt_.out);
        f << j.dump(2) << "\n";
    }
}

}  // namespace loadgen
