// The phases of a run: publishers and the warm-up publish, the connect storm, settle, publish and drain.

#include "process_usage.hpp"
#include "run.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace loadgen {

void run::run_until(std::function<bool()> const& done, double seconds)
{
    auto const until = steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
    while (!done() && steady::now() < until && !timed_out_) {
        io_.restart();
        io_.run_for(std::chrono::milliseconds(20));
    }
}

int run::execute()
{
    auto const run_start = steady::now();
    deadline_.expires_after(std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(opt_.timeout)));
    deadline_.async_wait([this](error_code ec) {
        if (!ec)
            timed_out_ = true;
    });
    auto remaining = [&] {
        return opt_.timeout - std::chrono::duration<double>(steady::now() - run_start).count();
    };

    // 1. Publisher connections; the warm-up publish (seq 0) gives switchboard's position for long polls.
    bool const fanout = opt_.mode == mode_kind::fanout;
    // Several HTTP publisher connections, so a slow publish answer does not lower the offered rate.
    std::size_t npub = opt_.publishers ? opt_.publishers : opt_.window > 0 ? std::min<std::size_t>(opt_.window, 8) : 4;
    if (opt_.publisher == publisher_kind::ws)
        npub = 1;
    std::size_t warmup_conn = 0;
    {
        pubs_.push_back(std::make_unique<connection>(this, connection::role::http_publisher, 0, io_));
        for (std::size_t i = 0; fanout && i < npub; ++i)
            pubs_.push_back(std::make_unique<connection>(this,
                opt_.publisher == publisher_kind::ws ? connection::role::ws_publisher : connection::role::http_publisher,
                i + 1, io_));
        // Publishers use the first source address; their count is small.
        auto const sources = opt_.sources;
        opt_.sources = 1;
        for (auto& p : pubs_)
            open(*p);
        opt_.sources = sources;
        run_until([&] { return pubs_ready_ + failed_ >= pubs_.size(); }, std::min(10.0, remaining()));
        if (pubs_[warmup_conn]->state == connection::phase::ready) {
            ticks_ = 0;
            publish_on(*pubs_[warmup_conn], 0);
            run_until([&] { return ticks_ > 0 || failed_ > 0; }, std::min(10.0, remaining()));
        }
        if (failed_ > 0) {
            nlohmann::json j = {{"error", "publisher set-up failed"}, {"errors", errors_}};
            std::cout << j.dump() << std::endl;
            return 1;
        }
        // The warm-up connection is done: closed, but kept alive until its aborted wait has run.
        pubs_[warmup_conn]->state = connection::phase::closed;
        error_code ignored;
        pubs_[warmup_conn]->socket.close(ignored);
    }

    // 2. Subscribers (the connect storm): at most connect_concurrency in set-up at once.
    rss_before_ = server_rss_bytes(opt_.server_pid);
    auto const server_cpu_connect0 = server_cpu_seconds(opt_.server_pid);
    for (std::size_t i = 0; i < opt_.subscribers; ++i)
        subs_.push_back(std::make_unique<connection>(this, connection::role::subscriber, i, io_));
    first_connect_ns_ = now_ns();
    all_ready_ns_ = first_connect_ns_;
    connect_more();
    run_until([&] { return subs_ready_ + failed_ >= opt_.subscribers; }, remaining());
    auto const subscribed = subs_ready_;
    auto const connect_seconds = static_cast<double>(all_ready_ns_ - first_connect_ns_) / 1e9;
    auto const server_cpu_connect = server_cpu_seconds(opt_.server_pid) - server_cpu_connect0;

    // A join storm: every member hears of every member that joined after it, n(n-1)/2 events in all. Split across
    // nodes, the joins this node's members hear depend on how the storms interleave: only the counts tell.
    auto const expected_joins = subscribed * (subscribed - std::min<std::size_t>(subscribed, 1)) / 2;
    bool const split = opt_.presence_total > opt_.subscribers;
    if (opt_.presence)
        run_until([&] { return (!split && joins_ >= expected_joins) || (told_all_ >= subscribed && subscribed > 0); },
                  std::min(opt_.drain, std::max(0.0, remaining())));
    auto const server_cpu_joins = server_cpu_seconds(opt_.server_pid) - server_cpu_connect0;

    // Let the server settle (its last accepted connections registered), then measure idle memory.
    run_until([] { return false; }, std::min(opt_.settle, std::max(0.0, remaining())));
    rss_after_ = server_rss_bytes(opt_.server_pid);

    auto j = set_up_result(subscribed, connect_seconds, server_cpu_connect);
    if (opt_.presence)
        j["presence"] = {{"joins", joins_}, {"expected_joins", expected_joins}, {"counts_events", counts_},
            {"members_told_all", told_all_}, {"total", opt_.presence_total},
            {"last_join_seconds", last_join_ns_ > first_connect_ns_ ? static_cast<double>(last_join_ns_ - first_connect_ns_) / 1e9 : 0.0},
            {"server_cpu_seconds", server_cpu_joins}};

    if (fanout && subscribed > 0) {
        // 3. Publish for `duration` at a fixed rate or closed-loop; then drain.
        sub_bytes_ = {};
        pub_bytes_ = {};
        deliveries_ = 0;
        cpu_start_ = cpu_seconds();
        server_cpu_start_ = server_cpu_seconds(opt_.server_pid);
        publish_start_ns_ = now_ns();
        publish_deadline_ = steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(opt_.duration));
        active_subs_ = subscribed;
        publishing_ = true;
        if (opt_.window > 0) {
            pump();
            pub_timer_.expires_after(std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(opt_.duration)));
            pub_timer_.async_wait([this](error_code ec) {
                if (!ec)
                    finish_publishing();
            });
        } else {
            publish_tick();
        }
        run_until([&] { return publish_done_; }, std::max(0.0, std::min(opt_.duration + 1, remaining())));
        if (!publish_done_)
            finish_publishing();
        // Drain: until every subscriber has every acknowledged message, or the drain time is up.
        auto const alive = [&] {
            std::size_t n = 0;
            for (auto& s : subs_)
                n += s->state == connection::phase::ready;
            return n;
        };
        auto const all_in = [&] {
            auto const unanswered = next_seq_ - 1 - unsent_ - published_ok_ - publish_errors_;
            return unanswered == 0 && deliveries_ >= published_ok_ * alive();
        };
        run_until(all_in, std::max(0.0, std::min(opt_.drain, remaining())));
        cpu_end_ = cpu_seconds();
        server_cpu_end_ = server_cpu_seconds(opt_.server_pid);

        add_fanout_result(j, subscribed);
    } else {
        j["loadgen_cpu"] = {{"seconds", cpu_seconds()}};
    }
    add_run_result(j);
    write_result(j);

    // Idle: optionally hold the connections (bounded), so a reader that has the result can inspect the server, or
    // kill another node, while they stay.
    if (!fanout && opt_.hold > 0)
        run_until([] { return false; }, std::min(opt_.hold, std::max(0.0, remaining())));
    for (auto& s : subs_)
        if (s->state != connection::phase::closed) {
            s->state = connection::phase::closed;
            error_code ignored;
            s->socket.close(ignored);
        }
    return 0;
}

}  // namespace loadgen
