#pragma once
// Where cnats' own threads hand work to the loop. Whatever the I/O mode, cnats runs subscription callbacks on
// its delivery thread (one per process with natsOptions_UseGlobalMessageDelivery, instead of one thread per
// subscription) and connection events on its async-callback thread. Both end here and continue on the loop,
// where everything else runs without a lock.
//
// Messages cross through a lock-free queue with one posted drain per burst (batch = true), or with one post per
// message (batch = false, kept to measure the difference: bench/nats_bench.cpp).
//
// Lifetime: cnats may still run a subscription's callback after natsSubscription_Unsubscribe or
// natsConnection_Destroy has returned (its delivery thread may be on its way); it is done only at the
// subscription's completion callback. So every closure given to cnats is a heap `ref` holding the mailbox,
// deleted by the last callback cnats makes with it: the completion callback of a subscription, the closed
// callback of the connection. close() (on the loop) stops posting and waits out any callback posting at that
// moment, so nothing touches the io_context once close() has returned.

#include "backplanes/nats/nats_message.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/lockfree/queue.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace switchboard::nats {

class mailbox : public std::enable_shared_from_this<mailbox> {
public:
    enum class connection_event { connected, disconnected, reconnected, closed };
    using message_handler = std::function<void(std::uint64_t subscription, msg_ptr)>;
    using event_handler = std::function<void(connection_event)>;

    /// What cnats holds as a callback's closure.
    struct ref {
        std::shared_ptr<mailbox> box;
        std::uint64_t subscription = 0;
    };

    mailbox(boost::asio::any_io_executor ex, bool batch);
    ~mailbox();

    /// Loop thread; before the first callback can come.
    void set_handlers(message_handler on_message, event_handler on_event);

    ref* make_ref(std::uint64_t subscription = 0) { return new ref{shared_from_this(), subscription}; }

    // cnats callbacks (its threads). The closure is a ref*.
    static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
    static void on_complete(void* closure);  // deletes the ref
    static void on_connected(natsConnection*, void* closure);
    static void on_disconnected(natsConnection*, void* closure);
    static void on_reconnected(natsConnection*, void* closure);
    static void on_closed(natsConnection*, void* closure);  // deletes the ref: the connection's last callback

    /// Loop thread. No handler runs after this returns; messages still queued are dropped.
    void close();

private:
    struct envelope {
        std::uint64_t subscription;
        natsMsg* msg;
    };

    void hand_over(std::uint64_t subscription, natsMsg* msg);
    void event(connection_event e);
    void drain();
    template <class F>
    void post_while_open(F&& f);

    boost::asio::any_io_executor ex_;
    bool const batch_;
    boost::lockfree::queue<envelope> queue_{1024};
    std::atomic<bool> drain_posted_{false};
    std::atomic<bool> open_{true};
    std::atomic<int> posting_{0};  // callbacks between their look at open_ and their post
    message_handler on_message_;
    event_handler on_event_;
};

}  // namespace switchboard::nats
