#include "listener_channel.hpp"

#include "core/hook_guard.hpp"
#include "server_context.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <boost/asio/post.hpp>

namespace switchboard {

namespace detail {

listener_channel::listener_channel(server_context& ctx, std::string topic, server::message_handler on_message,
                                   subscribe_options options, std::function<void(listener_channel&)> forget)
    : channel(std::string()),  // no peer: charged to no client's bounds, as the service's own publishes
      ctx_(ctx),
      topic_(std::move(topic)),
      on_message_(std::move(on_message)),
      options_(std::move(options)),
      forget_(std::move(forget))
{
}

void listener_channel::start()
{
    boost::asio::post(ctx_.executor, [self = std::static_pointer_cast<listener_channel>(shared_from_this())] {
        if (!self->closing())
            self->subscribe_now();
    });
}

void listener_channel::subscribe_now()
{
    auto self = std::static_pointer_cast<listener_channel>(shared_from_this());
    if (ctx_.stopping) {
        if (options_.on_subscribed)
            options_.on_subscribed(error::shutting_down, {});
        return cancel();
    }
    if (!is_valid_topic(topic_) && is_valid_pattern(topic_)) {
        // A pattern: the hub's pattern trie from now on, after its whole history since the sequence `since` (read
        // once the pattern holds, so live messages meanwhile wait and those the history has are dropped).
        bool const resuming = options_.since.has_value();
        resuming_ = resuming;
        return ctx_.subscribe_pattern(
            *this, topic_, options_.since, backplane::whole_history, subscribe_queue::authorization::done,
            [self, resuming](boost::system::error_code ec, pattern_history_result r) {
                if (self->closing())
                    return;
                if (self->options_.on_subscribed) {
                    try {
                        self->options_.on_subscribed(
                            ec, subscribe_result{r.latest, !resuming || r.recovered, std::move(r.lost)});
                    } catch (...) {
                        log_hook_exception("subscription's on_subscribed");
                        return self->close(disconnect::internal_error());
                    }
                }
                if (ec)
                    return self->cancel();
                auto held = std::move(self->held_);
                self->held_ = {};
                self->resuming_ = false;
                for (auto const& m : r.messages)
                    if (!self->closing())
                        self->hand_over(m);
                for (auto const& m : held)
                    if (!self->closing() && (m->sequence() == 0 || m->sequence() > r.latest.offset))
                        self->hand_over(m);
            });
    }
    // The whole history after `since` in one read: a listener has no socket to pace a replay against, and
    // history is bounded in total.
    ctx_.subscribe(*this, topic_, options_.since, backplane::whole_history, subscribe_queue::authorization::done,
                   [self](boost::system::error_code ec, history_result r) {
                       if (self->closing())
                           return;
                       if (self->options_.on_subscribed) {
                           try {
                               self->options_.on_subscribed(ec, subscribe_result{r.latest, r.recovered, {}});
                           } catch (...) {
                               log_hook_exception("subscription's on_subscribed");
                               return self->close(disconnect::internal_error());
                           }
                       }
                       if (ec)
                           return self->cancel();
                       for (auto const& m : r.messages)
                           if (!self->closing())
                               self->hand_over(m);
                   });
}

void listener_channel::hand_over(message_ptr const& m)
{
    try {
        on_message_(m);
    } catch (...) {
        log_hook_exception("subscription's message handler");
        close(disconnect::internal_error());
    }
}

delivery_status listener_channel::deliver(message_ptr const& m)
{
    if (closing())
        return delivery_status::closing;
    if (resuming_) {
        if (held_.size() >= ctx_.options.max_queue_messages) {
            close(disconnect::slow_consumer());
            return delivery_status::slow_consumer;
        }
        held_.push_back(m);
        return delivery_status::queued;
    }
    hand_over(m);
    return delivery_status::queued;
}

void listener_channel::cancel() noexcept
{
    cancelled_ = true;
    close(disconnect::normal());
}

void listener_channel::close(disconnect const& reason)
{
    if (!begin_closing())
        return;
    auto const self = shared_from_this();  // the registry may hold the last reference
    ctx_.closed(*this, reason);            // hooks, subscribes in progress, the hub
    forget_(*this);
    if (cancelled_ || !options_.on_closed)
        return;
    try {
        options_.on_closed(reason);  // in a close path the hub may be walking: nothing may unwind through it
    } catch (...) {
        log_hook_exception("subscription's on_closed");
    }
}

}  // namespace detail

subscription::subscription(std::weak_ptr<detail::listener_channel> listener) noexcept : listener_(std::move(listener)) {}

subscription& subscription::operator=(subscription&& other) noexcept
{
    if (this != &other) {
        unsubscribe();
        listener_ = std::move(other.listener_);
    }
    return *this;
}

subscription::~subscription()
{
    unsubscribe();
}

void subscription::unsubscribe() noexcept
{
    if (auto l = listener_.lock())
        l->cancel();
    listener_.reset();
}

bool subscription::active() const noexcept
{
    auto l = listener_.lock();
    return l && !l->closing();
}

}  // namespace switchboard
