#include "write_path/flush_scheduler.hpp"

#include <boost/asio/post.hpp>

namespace switchboard::detail {

flush_scheduler::flush_scheduler(boost::asio::any_io_executor ex, bool batch_sends)
    : executor_(std::move(ex)), batch_(batch_sends ? send_batch::open() : nullptr)
{
}

void flush_scheduler::add(pending p)
{
    pending_.push_back(std::move(p));
    post();
}

void flush_scheduler::note_published(std::chrono::steady_clock::time_point at)
{
    if (!observe)
        return;
    published_.push_back(at);
    post();
}

void flush_scheduler::post()
{
    if (posted_)
        return;
    posted_ = true;
    // post, not dispatch: everything already queued (more publishes, more reads) runs first.
    boost::asio::post(executor_, [this] { run(); });
}

void flush_scheduler::run()
{
    posted_ = false;
    running_.swap(pending_);
    if (batch_)
        batch_->begin();
    for (auto& p : running_) {
        p.what->flush_scheduled_ = false;
        p.flush(*p.what);
    }
    if (batch_)
        batch_->submit();
    running_.clear();
    if (!published_.empty()) {
        auto const now = std::chrono::steady_clock::now();
        for (auto at : published_)
            observe(now - at);
        published_.clear();
    }
}

}  // namespace switchboard::detail
