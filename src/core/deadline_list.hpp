#pragma once
// One timer for many deadlines: the long polls' holds, when their departure watch parks, and how long a kept-alive
// HTTP connection waits for its next request (one list each).
// Each waiting poll used to arm a timer of its own, which cost it ~220 bytes while it waited (the timer, its
// pending operation) and, per answer, a cancellation that Asio completes as one more handler. Here a waiting
// entry is two links and a time point in its owner, kept in deadline order, and the loop's one timer is set for
// the first. Entries of one duration are added in deadline order already, so an add is O(1) at the back; removal
// is O(1) anywhere. A list's entries are of one kind of owner, told through the list's one function (expiry):
// a virtual expired() put a vtable pointer in every owner (8 bytes of every waiting poll and HTTP connection).
//
// The timer waits only while an entry does, so a stopped server's loop still runs dry. Loop thread only.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>

namespace switchboard::detail {

class deadline_list {
public:
    using clock = std::chrono::steady_clock;

    /// What waits: its owner derives from it and is told, through the list's expiry, once its deadline passes,
    /// unless removed first.
    class entry {
    public:
        bool waiting() const noexcept { return list_ != nullptr; }
        /// When it expires, while waiting.
        clock::time_point deadline() const noexcept { return deadline_; }

    protected:
        entry() = default;
        entry(entry const&) = delete;
        entry& operator=(entry const&) = delete;
        ~entry();

    private:
        friend class deadline_list;
        deadline_list* list_ = nullptr;
        entry* prev_ = nullptr;
        entry* next_ = nullptr;
        clock::time_point deadline_{};
    };

    /// Tells an entry's owner that its deadline passed; the entry is no longer in the list.
    using expiry = void (*)(entry& due);

    deadline_list(boost::asio::any_io_executor ex, expiry on_expiry);
    deadline_list(deadline_list const&) = delete;
    deadline_list& operator=(deadline_list const&) = delete;
    /// Entries still waiting are let go: none of them expires.
    ~deadline_list();

    /// Has `e` expire `after` from now (instead of when it would, if it was waiting).
    void add(entry& e, clock::duration after);
    /// Takes `e` out of the list; nothing when it is not waiting.
    void remove(entry& e) noexcept;

    std::size_t size() const noexcept { return size_; }

private:
    void arm();
    void on_timer();
    void unlink(entry& e) noexcept;

    boost::asio::steady_timer timer_;
    expiry expiry_;
    entry* first_ = nullptr;
    entry* last_ = nullptr;
    std::size_t size_ = 0;
    clock::time_point armed_for_ = clock::time_point::max();  // max: the timer is not waiting
};

}  // namespace switchboard::detail
