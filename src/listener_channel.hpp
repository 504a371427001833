#pragma once
// A C++ listener in the server's process (server::subscribe): a channel of its own kind, so the hub fans out to
// it as to any client and knows nothing of it. It subscribes through the path a client's subscribe takes
// (subscribe_queue: topic check, join, history, backplane interest), already authorized (the service is
// trusted), and hands each message to the application's handler instead of a socket.
//
// Loop thread only.

#include <switchboard/channel.hpp>
#include <switchboard/server.hpp>
#include <switchboard/subscription.hpp>

#include <functional>
#include <string>
#include <vector>

namespace switchboard::detail {

struct server_context;

class listener_channel final : public channel {
public:
    /// `forget` takes it out of the server's registry when it closes.
    listener_channel(server_context& ctx, std::string topic, server::message_handler on_message,
                     subscribe_options options, std::function<void(listener_channel&)> forget);

    /// Subscribes; on a later turn of the loop, so that nothing runs before server::subscribe returns.
    void start();
    /// The application ended it: it leaves, and no handler runs any more.
    void cancel() noexcept;

    std::string_view transport() const noexcept override { return "listener"; }
    /// Runs the message handler (queued: it has the message when this returns).
    delivery_status deliver(message_ptr const& m) override;
    /// The server ended it (a gap, a shutdown): it leaves, and on_closed is told.
    void close(disconnect const& reason) override;

private:
    void subscribe_now();
    void hand_over(message_ptr const& m);

    server_context& ctx_;
    std::string topic_;
    server::message_handler on_message_;
    subscribe_options options_;
    std::function<void(listener_channel&)> forget_;
    bool cancelled_ = false;
    // A pattern resuming: live messages wait (at most max_queue_messages) behind the pattern's history.
    bool resuming_ = false;
    std::vector<message_ptr> held_;
};

}  // namespace switchboard::detail
