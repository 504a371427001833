#pragma once
// A one-way stream of named events to one HTTP client, outside the hub and the channel registry: the admin
// view's figures. The SSE transport opens one (server.cpp hands its opener to the admin view), so that the
// operations side names no transport. Loop thread only.

#include <switchboard/disconnect.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace switchboard::detail {

class channel_services;
class exchange;

class event_stream {
public:
    virtual ~event_stream() = default;
    /// An event of a named type (an EventSource listens for it by name), its data one line of JSON.
    virtual void send_event(std::string_view type, std::string const& json) = 0;
    /// Whether the client is gone or the stream is closing: nothing more is sent.
    virtual bool ended() const noexcept = 0;
    virtual void end(disconnect const& reason) = 0;
};

/// Takes `conn`'s socket over and starts an event stream on it (the response head is written).
using event_stream_opener =
    std::function<std::shared_ptr<event_stream>(channel_services&, std::shared_ptr<exchange> const&)>;

}  // namespace switchboard::detail
