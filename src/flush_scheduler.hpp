#pragma once
// Corking: channels that got bytes during a loop turn are flushed once, together, when the turn's handlers are
// done, so a burst of messages to one channel leaves in one gathered write instead of one syscall each.

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <vector>

namespace switchboard::detail {

class flushable {
public:
    virtual void flush() = 0;

protected:
    ~flushable() = default;

private:
    friend class flush_scheduler;
    bool flush_scheduled_ = false;
};

class flush_scheduler {
public:
    explicit flush_scheduler(boost::asio::any_io_executor ex) : executor_(std::move(ex)) {}

    /// Flushes `f` after the handlers already queued on the loop have run. Idempotent until then.
    void schedule(std::shared_ptr<flushable> f);

private:
    void run();

    boost::asio::any_io_executor executor_;
    std::vector<std::shared_ptr<flushable>> pending_;
    std::vector<std::shared_ptr<flushable>> running_;
    bool posted_ = false;
};

}  // namespace switchboard::detail
