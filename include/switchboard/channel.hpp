#pragma once
// A channel: one connected client, whatever its transport. The hub knows clients only through this interface.
//
// Thread-safety: every member runs on the loop thread.

#include <switchboard/detail/inplace_list.hpp>
#include <switchboard/detail/packed_address.hpp>
#include <switchboard/disconnect.hpp>
#include <switchboard/identity.hpp>
#include <switchboard/message.hpp>
#include <switchboard/presence.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

namespace detail {
struct hub_topic;
struct pattern_node;
template <class T, class Entry>
class slot_list;
}

/// What became of one message handed to channel::deliver.
enum class delivery_status {
    /// The client gets the message, in its topic's order, as long as the channel stays open: queued now, or
    /// left in history for the channel to read back when it gets there (a replay still going, a long poll whose
    /// answer is full: its cursor stays before the message).
    queued,
    /// The channel could not take it (its queue bound) and closed itself as a slow consumer (4000, or the
    /// channel it stands in for: a subscription being made); the client resumes from history.
    slow_consumer,
    /// The topic's stream no longer follows what the channel promised its client (a replay's range was
    /// skipped): the channel closed itself with a stream gap (4010); the client resumes from history.
    stream_gap,
    /// The channel was closing already (or has answered, for long polling): nothing was done.
    closing,
};

class channel : public std::enable_shared_from_this<channel> {
public:
    channel(channel const&) = delete;
    channel& operator=(channel const&) = delete;
    virtual ~channel();

    /// Unique within the process, never reused.
    std::uint64_t id() const noexcept { return id_; }
    /// "websocket", "sse" or "long-polling"; "listener" for a C++ listener (server::subscribe).
    virtual std::string_view transport() const noexcept = 0;
    /// The peer's address, "ip:port"; empty for a C++ listener. Spelled when asked for (detail/packed_address.hpp).
    std::string remote_address() const { return remote_address_.text(); }

    /// Hands a message to the client. Cheap: no serialization, no copy of the payload, no syscall (the bytes
    /// go out when the loop turn ends). Never blocks and never drops a message silently: the status says
    /// whether the client gets it (queued) or why not (the channel closed itself, telling the client, or was
    /// closing already). Every implementation keeps this meaning; the hub calls it once per subscriber.
    virtual delivery_status deliver(message_ptr const& m) = 0;

    /// Hands a presence event of a topic this channel is present in (present_in) to the client, as deliver()
    /// does a message (the same queue and bounds). Default: ignored (a C++ listener gets no presence events).
    virtual delivery_status deliver_presence(presence_event_ptr const& e);

    /// Tells the client that the server ended its subscription to `topic` (a pattern when `pattern`), after the
    /// fact: the server API's unsubscribe. Default: nothing (a long poll's next request names its topics anew; a
    /// C++ listener has no client).
    virtual void tell_unsubscribed(std::string const& topic, bool pattern);

    /// Closes the channel with a reason the client is told where its transport allows. Idempotent.
    virtual void close(disconnect const& reason) = 0;

    bool closing() const noexcept { return closing_; }

    /// Who the client is: what authentication made of its token (anonymous when nothing was configured).
    switchboard::identity const& identity() const noexcept { return *identity_; }
    identity_ptr const& identity_pointer() const noexcept { return identity_; }
    /// Set by the server when the channel opens and when a WebSocket refreshes its token.
    void set_identity(identity_ptr who) noexcept;

    /// The topics this channel is subscribed to.
    std::vector<std::string> topics() const;
    std::size_t subscription_count() const noexcept { return subscriptions_.size(); }
    /// The patterns (topic.hpp) this channel is subscribed to: counted with its topics under max_subscriptions.
    std::vector<std::string> patterns() const;
    std::size_t pattern_count() const noexcept { return pattern_subscriptions().size(); }

    /// Presence (presence.hpp): the client id this channel is known by in the topics it is present in (set at its
    /// first presence subscription, fixed from then on; empty before), the private key that lets the client take
    /// it over again within the reconnect grace, and those topics. Kept by the server (channel_services).
    std::string const& presence_client() const noexcept;
    std::string const& presence_key() const noexcept;
    void set_presence_identity(std::string client, std::string key);
    bool present_in(std::string_view topic) const noexcept;
    /// Adds or removes `topic` from the topics this channel is present in (and receives presence events of).
    void set_present(std::string const& topic, bool present);
    std::vector<std::string> const& presence_topics() const noexcept;

protected:
    explicit channel(std::string remote_address);
    explicit channel(detail::packed_address remote_address);
    /// Marks the channel closing; returns false when it already was (so close() runs its body once).
    bool begin_closing() noexcept;

private:
    friend class hub;
    friend class detail::slot_list<channel, std::shared_ptr<channel>>;  // the registry of open channels
    struct subscription {
        detail::hub_topic* topic;
        std::size_t index;  // this channel's slot in topic->subscribers
    };
    struct pattern_subscription {
        detail::pattern_node* node;
        std::size_t index;  // this channel's slot in node->subscribers
    };

    std::uint64_t id_;
    // The address's last byte is free: the flags take it (no_unique_address lets them, as GCC and Clang do), and
    // the slot the 4 after it. 8 bytes of every channel.
    [[no_unique_address]] detail::packed_address remote_address_;
    bool closing_ : 1 = false;
    bool indexed_ : 1 = false;  // the hub looks this channel's subscriptions up in its index (many of them)
    std::uint32_t list_slot_ = ~std::uint32_t{0};  // its place in the server's registry
    identity_ptr identity_;
    // Most channels hold one topic: its entry lives in the channel, not in a block of its own.
    detail::inplace_list<subscription> subscriptions_;
    // What few channels use (patterns, presence), made on first use: an idle channel pays one pointer.
    struct seldom_state {
        // Few (a client's are under max_subscriptions): searched, not indexed.
        std::vector<pattern_subscription> pattern_subscriptions;
        // The hub's number of the last message handed to this channel while patterns were live: a channel
        // subscribed to a topic and to patterns matching it gets each message once. Only a channel with patterns
        // can be reached twice, and it has this state.
        std::uint64_t delivered_stamp = 0;
        std::string presence_client;
        std::string presence_key;
        std::vector<std::string> presence_topics;  // few: under max_subscriptions
    };
    std::vector<pattern_subscription> const& pattern_subscriptions() const noexcept;
    seldom_state& seldom();  // made if missing
    std::unique_ptr<seldom_state> seldom_;
};

using channel_ptr = std::shared_ptr<channel>;

}  // namespace switchboard
