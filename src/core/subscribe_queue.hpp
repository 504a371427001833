#pragma once
// Subscribes in progress, per channel and topic. A subscribe may take a while (an authorize hook that answers
// later, a history read from Redis) while the client's next commands arrive; this keeps the outcome what the
// client sent, in its order:
//
// - A subscribe to a topic the channel is neither subscribed nor subscribing to takes its place under
//   max_subscriptions as it arrives (error::too_many_topics past it), so a burst cannot overshoot the limit.
// - A subscribe to a topic the channel is already subscribing to waits for that one's answer, then runs as any
//   subscribe does (a history read, once the first has subscribed).
// - An unsubscribe ends every subscribe of its topic still in progress with error::unsubscribed, in the order
//   they came and before the unsubscribe itself is answered: a join in flight is called off (its stand-in
//   leaves the hub), an authorization's late answer is ignored.
//
// Pattern subscribes (subscribe_pattern) take their place under max_subscriptions the same way (topics and
// patterns count together), are authorized as patterns, and are called off by an unsubscribe of their pattern.
// Once authorized and past on_subscribe, the hub has them; once the backplane receives the pattern's topics
// (backplane::pattern_ready), the pattern's history after `since` is read (backplane::pattern_history: a first
// page, or only the sequence now without `since`), and that answers them.
//
// Loop thread only. Nothing is held for a channel with no subscribe in progress; what is held for one that
// has some is bounded by max_subscriptions (one entry per topic), plus the subscribes queued behind them (a
// WebSocket's are pending commands, under max_pending_commands), and the messages its joins hold by
// max_queue_messages, all joins together.

#include <switchboard/backplane.hpp>
#include <switchboard/channel.hpp>
#include <switchboard/detail/string_hash.hpp>
#include <switchboard/hooks.hpp>
#include <switchboard/hub.hpp>
#include <switchboard/server_options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

class subscribe_queue {
public:
    /// Whether a subscribe still needs the permissions and the authorize hook (a WebSocket command), or had them
    /// already (SSE and polls authorize all of a request's topics before subscribing any).
    enum class authorization { check, done };

    /// How a subscribe is authorized (the server's authorizer, security/authorizer.hpp): whether `who` may
    /// subscribe to `topic` (a pattern when `pattern`), answered once on the loop thread, maybe before it returns.
    using authorize_function = std::function<void(std::string const& topic, bool pattern, identity_ptr who,
                                                  channel_ptr origin, std::string const& remote_address,
                                                  decision_handler done)>;
    /// A subscribe's answer: an error or the history, and when a hook refused it, the hook's reason.
    using subscribe_handler = hook_answer<boost::system::error_code, history_result>;
    using pattern_handler = hook_answer<boost::system::error_code, pattern_history_result>;

    /// Reads max_subscriptions and max_queue_messages from `options` at each call, and runs hooks.on_subscribe.
    subscribe_queue(boost::asio::any_io_executor executor, server_options const& options, switchboard::hooks& hooks,
                    switchboard::hub& hub, switchboard::backplane& backplane, authorize_function authorize);
    ~subscribe_queue();
    subscribe_queue(subscribe_queue const&) = delete;
    subscribe_queue& operator=(subscribe_queue const&) = delete;

    /// Subscribes `ch` to `topic` (or, when it already is, reads the history after `since`): the topic's name,
    /// the limit, the authorization, on_subscribe, then the join. The history comes as a first page of at most
    /// `max_bytes` (see backplane::history). `done` gets an error or the history, once, on
    /// the loop thread, maybe before this returns; never after `ch` has closed (drop()).
    void subscribe(channel& ch, std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                   authorization a, subscribe_handler done);
    /// Ends `ch`'s subscribes to `topic` still in progress with error::unsubscribed, oldest first. Returns
    /// whether there were any.
    bool cancel(channel& ch, std::string_view topic);

    /// Subscribes `ch` to `pattern`: its syntax (error::invalid_pattern), whether the backplane delivers
    /// patterns (error::invalid_pattern too: backplane::delivers_patterns), the limit, the authorization,
    /// on_subscribe, the hub, then the backplane's backplane::pattern_ready (error::backplane_unavailable when
    /// its broker is unreachable: the hub lets the pattern go again), then the pattern's history after `since`
    /// (a first page of at most `max_bytes`, over at most options.max_resume_topics topics: too_many_topics
    /// past it, and the hub lets the pattern go again). `done` as for subscribe(); the history when it already
    /// was subscribed too.
    void subscribe_pattern(channel& ch, std::string const& pattern, std::optional<position> const& since,
                           std::size_t max_bytes, authorization a, pattern_handler done);
    /// Ends `ch`'s subscribes to `pattern` in progress with error::unsubscribed. Returns whether there were any.
    bool cancel_pattern(channel& ch, std::string_view pattern);
    /// Forgets `ch`'s subscribes in progress without answering them: part of its close path.
    void drop(channel& ch);
    /// The subscriptions `ch` is making, not made yet: they count against max_subscriptions.
    std::size_t joining(channel const& ch) const noexcept;

    /// Counts one more message that a join holds for `ch` until its subscription is made, against
    /// max_queue_messages across all of `ch`'s joins (what `ch` could have queued). False when past it.
    bool hold(channel const& ch) noexcept;
    /// `n` messages held for `ch` were handed over or dropped.
    void release(channel const& ch, std::size_t n) noexcept;

    /// What the joins (topic_join.hpp) subscribe through.
    switchboard::hub& hub() const noexcept { return hub_; }
    switchboard::backplane& backplane() const noexcept { return backplane_; }
    boost::asio::any_io_executor const& executor() const noexcept { return executor_; }

private:
    struct operation;
    struct pattern_operation;
    // One topic's subscribes on one channel: the first runs, the others wait their turn.
    struct topic_queue {
        std::vector<std::shared_ptr<operation>> operations;
        std::size_t running = 0;  // index of the one running; those before it are answered
        bool counted = false;     // the channel is not subscribed yet: the topic holds a place under the limit
    };
    struct channel_queues {
        std::unordered_map<std::string, topic_queue, string_hash, std::equal_to<>> topics;
        std::vector<std::shared_ptr<pattern_operation>> patterns;  // pattern subscribes in progress
        std::size_t joining = 0;  // topics with counted == true, and patterns likewise
        std::size_t held = 0;     // messages its joins hold
    };

    void start(std::shared_ptr<operation> op);
    void subscribe_now(std::shared_ptr<operation> op);
    void finish(std::shared_ptr<operation> op, boost::system::error_code ec, history_result r,
                std::string reason = {});
    static void call_off(operation& op);
    void start_pattern(std::shared_ptr<pattern_operation> op);
    void read_pattern(std::shared_ptr<pattern_operation> const& op, bool added);
    void finish_pattern(std::shared_ptr<pattern_operation> const& op, boost::system::error_code ec,
                        pattern_history_result r = {}, std::string reason = {});

    boost::asio::any_io_executor executor_;
    server_options const& options_;
    switchboard::hooks& hooks_;
    switchboard::hub& hub_;
    switchboard::backplane& backplane_;
    authorize_function authorize_;
    std::unordered_map<channel const*, channel_queues> channels_;
};

}  // namespace switchboard::detail
