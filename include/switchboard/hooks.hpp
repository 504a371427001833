#pragma once
// Application hooks: how an embedding service accepts, transforms or rejects what clients do. Each runs on the
// loop thread and must not block. A hook that throws is caught at the boundary, logged, and treated as a
// refusal with error::internal_error of what it was deciding (a connect is refused, a subscribe or publish gets
// the error); a channel already open stays open, as for any refusal.
//
// The requests are values: a hook may copy one and keep it past its call (an asynchronous authenticate or
// authorize reads it when its answer comes). Strings are owned; who asks is an identity_ptr; the channel is a
// channel_ptr, which keeps the channel object (not its connection) alive: one that closed meanwhile reads as
// closing() and delivers nothing.

#include <switchboard/channel.hpp>
#include <switchboard/disconnect.hpp>
#include <switchboard/http.hpp>
#include <switchboard/identity.hpp>

#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace switchboard {

/// A client asking to connect (WebSocket upgrade, SSE stream, long poll, POST /publish) or, with no request, a
/// WebSocket presenting a fresh token ("refresh" command).
struct auth_request {
    /// The HTTP request's start line and fields (not its body: a POST /publish body is the message, which
    /// on_publish sees); null on a refresh.
    std::shared_ptr<http_request const> request;
    std::string token;                 // the token found (Authorization: Bearer, cookie or ?token=), maybe ""
    std::optional<identity> verified;  // the built-in JWT check's result when it is configured and passed
    std::string remote_address;        // "IP:port"
    std::string transport;             // "websocket", "sse", "long-polling", "publish", "presence" (GET /presence)
                                       // or "route" (a secured route)
};

/// A hook's answer, called once, on the loop thread (asio::post there from another thread). The hook is handed
/// one; code that hands one over may build it from a callable taking the arguments with or without the reason.
/// A refusal may say why in `reason`: the client gets it as the error's "message" in place of the error's
/// standard text (an HTTP proxy backend's message reaches the client so: docs/integration.md).
template <class... Args>
class hook_answer {
public:
    using function = std::function<void(Args..., std::string reason)>;

    hook_answer() = default;
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, hook_answer> && std::is_invocable_v<F&, Args..., std::string>)
    hook_answer(F f) : f_(std::move(f))
    {
    }
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, hook_answer> &&
                 !std::is_invocable_v<F&, Args..., std::string> && std::is_invocable_v<F&, Args...>)
    hook_answer(F f) : f_([f = std::move(f)](Args... args, std::string) mutable { f(std::move(args)...); })
    {
    }

    void operator()(Args... args, std::string reason = {}) const { f_(std::move(args)..., std::move(reason)); }
    explicit operator bool() const noexcept { return static_cast<bool>(f_); }

private:
    function f_;
};

/// The authenticate hook's answer: an error (error::unauthorized, error::token_expired, error::rejected...)
/// refuses the client, with an optional reason; else `who` becomes its identity.
using auth_handler = hook_answer<boost::system::error_code, identity>;

/// What a client wants to do with a topic, for the authorize hook.
struct authorize_request {
    enum class kind { subscribe, publish };
    kind action;
    std::string topic;
    identity_ptr who;    // never null (identity::anonymous() for a client that presented nothing)
    channel_ptr origin;  // the subscribing or publishing channel, null for POST /publish
    std::string remote_address;  // "IP:port"
    /// A subscribe to a pattern (`topic` is then a pattern, topic.hpp: "sports.*"). Allow it only if every topic
    /// it can match is one `who` may read: the pattern delivers them all. The configured permissions have
    /// checked exactly that already (docs/security.md).
    bool pattern = false;
};

/// The authorize and moderate hooks' answer: an error (e.g. error::forbidden) refuses, with an optional reason;
/// success allows. Once, on the loop thread.
using decision_handler = hook_answer<boost::system::error_code>;

/// A message a client wants to publish, as seen by the publish hook. A copy kept past the call has its own data.
///
/// The data is JSON text, byte for byte as the client sent it (already checked: docs/protocol.md, "Payloads"), and
/// subscribers receive exactly those bytes unless the hook replaces them. Reading it as a value costs a parse, made
/// on demand; a hook that looks only at the topic or the origin pays nothing.
class publish_request {
public:
    publish_request(std::string topic, std::string data, channel_ptr origin, std::string remote_address) noexcept;

    std::string topic;
    channel_ptr origin;  // the publishing WebSocket channel, or null for POST /publish
    std::string remote_address;  // "IP:port"
    identity_ptr who = identity::anonymous();  // the publisher (for POST /publish: what its request authenticated)

    /// The data as JSON text: the client's bytes, or the last replacement. A binary payload reads as
    /// message::binary_prefix and its base64 (data_json() of it is discarded).
    std::string_view data() const noexcept { return data_; }
    /// The data parsed, at the first call after each change. A replacement by text that is not JSON reads as a
    /// discarded value (is_discarded()).
    nlohmann::json const& data_json() const;

    /// Replaces the data with `value`, serialized once (compact, on one line).
    void replace_data(nlohmann::json const& value);
    /// Replaces the data with JSON text, delivered byte for byte. It is checked like a client's data when the hook
    /// returns: text that is not publishable JSON refuses the publish with error::invalid_json (logged).
    void replace_data_text(std::string json_text);
    /// Text is not a value: replace_data_text(text) for JSON text, replace_data(nlohmann::json(text)) for a string.
    void replace_data(std::string const&) = delete;
    void replace_data(std::string_view) = delete;
    template <std::size_t N>
    void replace_data(char const (&)[N]) = delete;

    /// Whether the hook replaced the data.
    bool replaced() const noexcept { return replaced_; }
    /// Moves the data out, as it is now: what the server publishes once the hook has returned.
    std::string take_data() && noexcept { return std::move(data_); }

private:
    std::string data_;
    mutable std::optional<nlohmann::json> parsed_;
    bool replaced_ = false;
};

struct hooks {
    /// Decides who a connecting client is, possibly asynchronously (a session store, an introspection call).
    /// Runs after the built-in JWT check (if configured), whose result it sees in request.verified. Unset: the
    /// built-in check decides alone, and without one every client is anonymous.
    std::function<void(auth_request const&, auth_handler)> authenticate;
    /// Decides, possibly asynchronously, whether a subscribe or publish that the configured topic permissions
    /// and token claims allow goes ahead. Runs before on_subscribe / on_publish.
    std::function<void(authorize_request const&, decision_handler)> authorize;
    /// A new channel (any transport), before it receives anything. Return an error to refuse it.
    std::function<boost::system::error_code(channel&)> on_connect;
    /// A channel is gone, with the reason it was closed.
    std::function<void(channel&, disconnect const&)> on_disconnect;
    /// A channel asks for a topic, or a pattern (which contains '*' or '>', so never reads as a topic). Return an
    /// error (e.g. error::rejected) to refuse; the connection stays up. on_unsubscribe sees patterns likewise.
    std::function<boost::system::error_code(channel&, std::string const& topic)> on_subscribe;
    std::function<void(channel&, std::string const& topic)> on_unsubscribe;
    /// A client publishes (WebSocket command or POST /publish). Return an error to refuse; replace the data
    /// (request.replace_data, replace_data_text) to transform. Messages published from C++ (server::publish,
    /// publish_text) do not pass here.
    std::function<boost::system::error_code(publish_request&)> on_publish;
    /// A client's publish, after on_publish, decided possibly asynchronously (a backend's answer): refuse it
    /// (an error and a reason), or let it through, with its data replaced or not (request->replace_data...,
    /// checked like a client's data once the answer comes). The request is the hook's to keep until it answers.
    /// Messages published from C++ do not pass here.
    std::function<void(std::shared_ptr<publish_request> request, decision_handler done)> moderate;
};

}  // namespace switchboard
