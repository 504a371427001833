#include "flush_scheduler.hpp"

#include <boost/asio/post.hpp>

namespace switchboard::detail {

void flush_scheduler::schedule(std::shared_ptr<flushable> f)
{
    if (f->flush_scheduled_)
        return;
    f->flush_scheduled_ = true;
    pending_.push_back(std::move(f));
    if (!posted_) {
        posted_ = true;
        // post, not dispatch: everything already queued (more publishes, more reads) runs first.
        boost::asio::post(executor_, [this] { run(); });
    }
}

void flush_scheduler::run()
{
    posted_ = false;
    running_.swap(pending_);
    for (auto& f : running_) {
        f->flush_scheduled_ = false;
        f->flush();
    }
    running_.clear();
}

}  // namespace switchboard::detail
