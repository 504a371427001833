#pragma once
// Delta updates for one channel (docs/protocol.md "Delta updates"): for each topic its client subscribed with
// delta, the last message written to it. A message whose predecessor is that one goes as a delta against it
// (message::delta_envelope, built once per message and shared); any other (the first after a subscribe, a
// resume, or one after a message the client did not get) goes in full, so the client always has the base.
//
// Bounded by the channel's subscriptions; a message held here is the one its topic's subscribers share (it
// lives on in history and in every other base anyway), so one client cannot make the server hold more than
// one message per topic it is subscribed to. A channel without delta subscriptions holds only a null pointer.

#include <switchboard/message.hpp>
#include <switchboard/detail/string_hash.hpp>

#include <string>
#include <string_view>
#include <unordered_map>

namespace switchboard::detail {

class delta_bases {
public:
    /// `topic` is (re)subscribed with delta: its next message goes in full.
    void follow(std::string const& topic);
    /// `topic` is unsubscribed, or subscribed without delta.
    void forget(std::string_view topic);

    /// `m` is being written to the client: returns the message it can be a delta against (the client's last
    /// one on m's topic, when that is m's predecessor; else null), and records `m` as the client's last.
    message_ptr advance(message_ptr const& m);

    bool empty() const noexcept { return last_.empty(); }

private:
    std::unordered_map<std::string, message_ptr, string_hash, std::equal_to<>> last_;  // null: nothing yet
};

}  // namespace switchboard::detail
