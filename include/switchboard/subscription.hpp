#pragma once
// A C++ listener's subscription to a topic (server::subscribe): the options it is made with, what it learns
// when it is made, and the handle that ends it.
//
// Thread-safety: loop thread only, as the server's channels (see server::subscribe).

#include <switchboard/disconnect.hpp>
#include <switchboard/message.hpp>
#include <switchboard/position.hpp>

#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard {

namespace detail {
class listener_channel;
}

/// What a subscription starts from, once it is made.
struct subscribe_result {
    position latest;        // the topic's position when it was made: the messages after it follow (a pattern:
                            // the backplane's sequence, backplane::pattern_history)
    bool recovered = true;  // with `since`: false when history no longer held every message after it
    std::vector<std::string> lost;  // a pattern with `since`: the topics whose messages history no longer has
};

struct subscribe_options {
    /// Resume: the messages after this position, from history, come first (as a client's `since`). For a
    /// pattern, the position is a sequence (message::sequence of the last message you had, or
    /// subscribe_result::latest), and its matching topics' messages after it come in sequence order.
    /// Unset: the messages published from the moment the subscription is made.
    std::optional<position> since;
    /// Once, on the loop thread, before any message: the subscription is made (no error; the replay from
    /// `since`, if any, follows) or refused (error::invalid_topic, error::shutting_down, ...). Not called
    /// when the subscription ends first (on_closed, or unsubscribe()).
    std::function<void(boost::system::error_code, subscribe_result const&)> on_subscribed;
    /// Once, on the loop thread, when the server ends the subscription, not when you do: 4010 stream gap (this
    /// node lost messages of the topic: subscribe again with `since` at the last position you had), 1001 the
    /// server is stopping, 4000 more messages arrived while it was being made than a client could queue,
    /// 4002 your message handler threw.
    std::function<void(disconnect const&)> on_closed;
};

/// Ends its subscription when destroyed or when unsubscribe() is called (loop thread only). Move-only; an
/// empty or ended one does nothing. May outlive its server.
class subscription {
public:
    subscription() noexcept = default;
    explicit subscription(std::weak_ptr<detail::listener_channel> listener) noexcept;
    subscription(subscription&&) noexcept = default;
    subscription& operator=(subscription&& other) noexcept;
    subscription(subscription const&) = delete;
    subscription& operator=(subscription const&) = delete;
    ~subscription();

    /// No message arrives after this returns (nor on_closed). Idempotent.
    void unsubscribe() noexcept;
    /// True until unsubscribe() or the server ended it.
    bool active() const noexcept;

private:
    std::weak_ptr<detail::listener_channel> listener_;
};

}  // namespace switchboard
