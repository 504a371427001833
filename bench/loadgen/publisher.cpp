// Publishing at a fixed rate (a timer) or closed-loop (a window of messages not yet delivered everywhere), over
// HTTP POST or switchboard's WebSocket publish command.

#include "run.hpp"

#include "http_head.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

namespace loadgen {

std::string run::payload(std::uint64_t seq)
{
    return "{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(now_ns()) + ",\"pad\":\"" + padding_ + "\"}";
}

void run::http_publisher_input(connection& c)
{
    while (!c.pending.empty()) {
        bool done = false, error = false;
        auto const used = c.response.feed(c.pending.data(), c.pending.size(), done, error);
        c.pending.erase(0, used);
        if (error)
            return fail(c, "bad publish response");
        if (!done)
            break;
        if (c.in_flight.empty())
            return fail(c, "a publish answer nobody asked for");
        int const status = status_code(c.response.head);
        auto const seq = c.in_flight.front();
        c.in_flight.pop_front();
        if (seq == 0 && status / 100 == 2 && opt_.dialect == dialect_kind::switchboard) {
            // The warm-up publish: its answer is the topic's position, the cursor long polls start from.
            auto const& body = c.response.body;
            auto const o = body.find("\"offset\":");
            auto const e = body.find("\"epoch\":\"");
            if (o != std::string::npos && e != std::string::npos) {
                std::uint64_t offset = 0;
                std::from_chars(body.data() + o + 9, body.data() + body.size(), offset);
                auto const epoch = body.substr(e + 9, body.find('"', e + 9) - e - 9);
                cursor_ = std::to_string(offset) + "." + epoch + "." + opt_.topic;
            }
        }
        if (status / 100 != 2 && errors_.size() < 20)
            errors_.push_back("publish answered " + std::to_string(status) + ": " + c.response.body.substr(0, 200));
        c.response.reset();
        if (seq != 0)
            on_published(seq, status / 100 == 2);
        else
            ++ticks_;  // warm-up answered
    }
    pump();  // once for all the answers read: the requests it frees leave together
}

bool run::may_publish() const
{
    if (!publishing_ || next_seq_ > opt_.max_messages)
        return false;
    if (opt_.window == 0)
        return false;  // fixed rate: the timer decides
    // Closed loop: at most `window` messages' worth of deliveries outstanding.
    auto const n = static_cast<std::uint64_t>(active_subs_);
    auto const published = next_seq_ - 1 - publish_errors_;
    return published * n < deliveries_ + opt_.window * n;
}

void run::publish_on(connection& c, std::uint64_t seq)
{
    if (c.kind == connection::role::http_publisher) {
        c.in_flight.push_back(seq);
        auto const body = payload(seq);
        // Corked: the requests one pump() issues on a connection leave in one write, as a backend pipelining
        // its publishes would send them.
        c.corked += "POST " + pub_target_ + " HTTP/1.1\r\nHost: " + opt_.host
                + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"
                + body;
        if (!pumping_)
            uncork(c);
    } else {
        ws_send_text(c, "{\"type\":\"publish\",\"topic\":\"" + opt_.topic + "\",\"data\":" + payload(seq)
                + ",\"id\":" + std::to_string(seq) + "}");
    }
}

void run::uncork(connection& c)
{
    if (!c.corked.empty())
        send(c, std::exchange(c.corked, {}));
}

void run::pump()
{
    if (!publishing_ || pumping_)
        return;
    pumping_ = true;
    publish_due();
    pumping_ = false;
    for (auto& p : pubs_)
        uncork(*p);
}

void run::publish_due()
{
    auto idle = [&]() -> connection* {
        for (auto& p : pubs_)
            if (p->state == connection::phase::ready
                && (p->kind == connection::role::ws_publisher || p->in_flight.size() < opt_.pipeline))
                return p.get();
        return nullptr;
    };
    // Fixed rate: send what is due.
    while (!backlog_.empty()) {
        auto* c = idle();
        if (!c)
            return;
        auto const seq = backlog_.front();
        backlog_.pop_front();
        publish_on(*c, seq);
    }
    if (opt_.window == 0)
        return;
    while (may_publish() && steady::now() < publish_deadline_) {
        auto* c = idle();
        if (!c)
            return;
        publish_on(*c, next_seq_++);
    }
}

void run::publish_tick()
{
    auto const elapsed = static_cast<double>(now_ns() - publish_start_ns_) / 1e9;
    if (elapsed >= opt_.duration || next_seq_ > opt_.max_messages)
        return finish_publishing();
    // Every message due by now (catches up after a late timer, so the rate holds).
    auto const due = static_cast<std::uint64_t>(elapsed * opt_.rate) + 1;
    while (next_seq_ <= due && next_seq_ <= opt_.max_messages)
        backlog_.push_back(next_seq_++);
    max_backlog_ = std::max(max_backlog_, backlog_.size());
    pump();
    auto const next_at = steady::time_point(std::chrono::nanoseconds(publish_start_ns_))
        + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(static_cast<double>(due) / opt_.rate));
    pub_timer_.expires_at(next_at);
    pub_timer_.async_wait([this](error_code ec) {
        if (!ec)
            publish_tick();
    });
}

void run::on_published(std::uint64_t seq, bool ok)
{
    (void)seq;
    if (ok)
        ++published_ok_;
    else
        ++publish_errors_;
}

void run::finish_publishing()
{
    publishing_ = false;
    publish_done_ = true;
    // Messages due but never sent (the publisher fell behind) are not expected anywhere.
    unsent_ += backlog_.size();
    backlog_.clear();
    publish_end_ns_ = now_ns();
}

}  // namespace loadgen
