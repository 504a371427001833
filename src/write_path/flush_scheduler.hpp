#pragma once
// Corking: channels that got bytes during a loop turn are flushed once, together, when the turn's handlers are
// done, so a burst of messages to one channel leaves in one gathered write instead of one syscall each, and
// the turn's sends to every channel in one system call where io_uring allows (send_batch).

#include "write_path/send_batch.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace switchboard::detail {

/// What the scheduler flushes: a class that derives from it (publicly) and has a flush(). Told through a function
/// the scheduler keeps with each pending one, where a virtual flush() put a vtable pointer in every channel.
class flushable {
protected:
    ~flushable() = default;

private:
    friend class flush_scheduler;
    bool flush_scheduled_ = false;
};

class flush_scheduler {
public:
    /// `batch_sends`: the turn's sends go out together through io_uring where it is available (send_batch).
    flush_scheduler(boost::asio::any_io_executor ex, bool batch_sends);

    /// The loop's send batch, null when sends are not batched.
    send_batch* batch() const noexcept { return batch_.get(); }

    /// Flushes `f` (f->flush()) after the handlers already queued on the loop have run. Idempotent until then.
    template <class T>
    void schedule(std::shared_ptr<T> f)
    {
        flushable& base = *f;
        if (base.flush_scheduled_)
            return;
        base.flush_scheduled_ = true;
        add({std::shared_ptr<flushable>(std::move(f), &base), [](flushable& due) { static_cast<T&>(due).flush(); }});
    }

    /// Notes a message published at `at` whose deliveries this turn's flush writes; when the flush is done,
    /// `observe` gets how long publish-to-write took.
    void note_published(std::chrono::steady_clock::time_point at);
    std::function<void(std::chrono::steady_clock::duration)> observe;

private:
    struct pending {
        std::shared_ptr<flushable> what;
        void (*flush)(flushable&);
    };
    void add(pending p);
    void run();
    void post();

    boost::asio::any_io_executor executor_;
    std::unique_ptr<send_batch> batch_;
    std::vector<pending> pending_;
    std::vector<pending> running_;
    std::vector<std::chrono::steady_clock::time_point> published_;
    bool posted_ = false;
};

}  // namespace switchboard::detail
