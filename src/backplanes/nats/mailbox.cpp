#include "backplanes/nats/mailbox.hpp"

#include <boost/asio/post.hpp>

#include <thread>

namespace switchboard::nats {

namespace asio = boost::asio;

namespace {

// Messages a drain hands over before it lets other handlers run.
constexpr int drain_batch = 256;

mailbox::ref& ref_of(void* closure)
{
    return *static_cast<mailbox::ref*>(closure);
}

}  // namespace

mailbox::mailbox(asio::any_io_executor ex, bool batch) : ex_(ex), batch_(batch) {}

mailbox::~mailbox()
{
    envelope e{};
    while (queue_.pop(e))
        natsMsg_Destroy(e.msg);
}

void mailbox::set_handlers(message_handler on_message, event_handler on_event)
{
    on_message_ = std::move(on_message);
    on_event_ = std::move(on_event);
}

// The guard makes close() safe against a callback that saw open_ true and has not posted yet: close() waits for
// it, and every callback that starts later sees open_ false (both atomics are sequentially consistent).
template <class F>
void mailbox::post_while_open(F&& f)
{
    posting_.fetch_add(1);
    if (open_.load())
        asio::post(ex_, std::forward<F>(f));
    posting_.fetch_sub(1);
}

void mailbox::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure)
{
    auto& r = ref_of(closure);
    r.box->hand_over(r.subscription, msg);
}

void mailbox::hand_over(std::uint64_t subscription, natsMsg* msg)
{
    if (!batch_) {
        post_while_open([self = shared_from_this(), subscription, m = msg_ptr(msg)]() mutable {
            if (self->open_)
                self->on_message_(subscription, std::move(m));
        });
        return;
    }
    posting_.fetch_add(1);
    if (!open_.load()) {
        posting_.fetch_sub(1);
        natsMsg_Destroy(msg);
        return;
    }
    queue_.push(envelope{subscription, msg});
    if (!drain_posted_.exchange(true))
        asio::post(ex_, [self = shared_from_this()] { self->drain(); });
    posting_.fetch_sub(1);
}

void mailbox::drain()
{
    // Cleared before popping: a message pushed after the last pop posts a drain of its own.
    drain_posted_.store(false);
    envelope e{};
    int n = 0;
    while (n < drain_batch && queue_.pop(e)) {
        ++n;
        msg_ptr m(e.msg);
        if (open_)
            on_message_(e.subscription, std::move(m));
    }
    if (n == drain_batch && open_ && !drain_posted_.exchange(true))
        asio::post(ex_, [self = shared_from_this()] { self->drain(); });
}

void mailbox::on_complete(void* closure)
{
    delete static_cast<ref*>(closure);
}

void mailbox::event(connection_event e)
{
    post_while_open([self = shared_from_this(), e] {
        if (self->open_)
            self->on_event_(e);
    });
}

void mailbox::on_connected(natsConnection*, void* closure)
{
    ref_of(closure).box->event(connection_event::connected);
}

void mailbox::on_disconnected(natsConnection*, void* closure)
{
    ref_of(closure).box->event(connection_event::disconnected);
}

void mailbox::on_reconnected(natsConnection*, void* closure)
{
    ref_of(closure).box->event(connection_event::reconnected);
}

void mailbox::on_closed(natsConnection*, void* closure)
{
    std::unique_ptr<ref> r(static_cast<ref*>(closure));
    r->box->event(connection_event::closed);
}

void mailbox::close()
{
    open_.store(false);
    while (posting_.load() != 0)
        std::this_thread::yield();  // a callback is inside post_while_open: a few instructions from done
    on_message_ = nullptr;
    on_event_ = nullptr;
}

}  // namespace switchboard::nats
