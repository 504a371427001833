#include "core/presence_relay.hpp"

namespace switchboard::detail {

presence_relay::presence_relay(boost::asio::any_io_executor ex, presence_options const& options, hub& h,
                               backplane& bp)
    : options_(options), hub_(h), bp_(bp), batch_timer_(ex), counts_timer_(ex)
{
}

presence_relay::~presence_relay()
{
    stop();
}

void presence_relay::stop()
{
    stopped_ = true;
    batch_timer_.cancel();
    counts_timer_.cancel();
    batch_ = {};
    counts_due_.clear();
}

void presence_relay::relay(presence_event_ptr const& e)
{
    if (stopped_)
        return;
    auto const& topic = e->topic();
    if (options_.max_event_members != 0 && hub_.presence_listeners(topic) > options_.max_event_members) {
        counts_due(topic);
        return;
    }
    if (options_.batch_interval.count() <= 0) {
        hub_.deliver_presence(e);
        return;
    }
    if (batch_.add(*e) >= options_.max_page) {
        // A diff is bounded as a snapshot page is: a topic filling faster than that goes out early.
        if (auto diff = batch_.take(topic))
            hub_.deliver_presence(diff);
        return;
    }
    if (!batch_armed_) {
        batch_armed_ = true;
        batch_timer_.expires_after(options_.batch_interval);
        batch_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            batch_armed_ = false;
            flush_batches();
        });
    }
}

void presence_relay::counts_due(std::string const& topic)
{
    if (stopped_)
        return;
    // A wait runs exactly while some counts are due: send_counts takes them all when it ends.
    bool const waiting = !counts_due_.empty();
    counts_due_.insert(topic);
    if (waiting)
        return;
    counts_timer_.expires_after(options_.counts_interval);
    counts_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            send_counts();
    });
}

void presence_relay::flush_batches()
{
    for (auto const& diff : batch_.take_all())
        hub_.deliver_presence(diff);
}

void presence_relay::send_counts()
{
    auto due = std::move(counts_due_);
    counts_due_.clear();
    std::weak_ptr<presence_relay*> self = self_;
    for (auto const& topic : due)
        bp_.presence_stats(topic, [self, topic](boost::system::error_code ec, presence_counts n) {
            auto alive = self.lock();
            if (!alive)
                return;
            if (ec)
                (*alive)->counts_due(topic);  // the last change must still be told: ask again next interval
            else
                (*alive)->hub_.deliver_presence(presence_event::counts(topic, n));
        });
}

}  // namespace switchboard::detail
