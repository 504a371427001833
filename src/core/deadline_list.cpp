#include "core/deadline_list.hpp"

namespace switchboard::detail {

deadline_list::entry::~entry()
{
    if (list_)
        list_->remove(*this);
}

deadline_list::deadline_list(boost::asio::any_io_executor ex, expiry on_expiry)
    : timer_(std::move(ex)), expiry_(on_expiry)
{
}

deadline_list::~deadline_list()
{
    while (first_)
        unlink(*first_);
}

void deadline_list::add(entry& e, clock::duration after)
{
    if (e.list_)
        e.list_->remove(e);
    e.deadline_ = clock::now() + after;
    // From the back: with one duration for every entry, the new one goes last.
    entry* before = last_;
    while (before && before->deadline_ > e.deadline_)
        before = before->prev_;
    e.prev_ = before;
    e.next_ = before ? before->next_ : first_;
    (e.next_ ? e.next_->prev_ : last_) = &e;
    (before ? before->next_ : first_) = &e;
    e.list_ = this;
    ++size_;
    if (first_->deadline_ < armed_for_)
        arm();
}

void deadline_list::remove(entry& e) noexcept
{
    if (e.list_ != this)
        return;
    unlink(e);
    // A removed first entry leaves the timer set for its deadline: it then finds nothing due and is set for the
    // next one. Only an empty list stops it, so that the loop can run dry.
    if (!first_ && armed_for_ != clock::time_point::max()) {
        armed_for_ = clock::time_point::max();
        timer_.cancel();
    }
}

void deadline_list::unlink(entry& e) noexcept
{
    (e.prev_ ? e.prev_->next_ : first_) = e.next_;
    (e.next_ ? e.next_->prev_ : last_) = e.prev_;
    e.prev_ = e.next_ = nullptr;
    e.list_ = nullptr;
    --size_;
}

void deadline_list::arm()
{
    armed_for_ = first_->deadline_;
    timer_.expires_at(armed_for_);  // a wait set for a later deadline completes aborted, and is ignored
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            on_timer();
    });
}

void deadline_list::on_timer()
{
    armed_for_ = clock::time_point::max();
    auto const now = clock::now();
    while (first_ && first_->deadline_ <= now) {
        auto& due = *first_;
        unlink(due);
        expiry_(due);  // may add and remove entries, and so set the timer
    }
    if (first_ && first_->deadline_ < armed_for_)
        arm();
}

}  // namespace switchboard::detail
