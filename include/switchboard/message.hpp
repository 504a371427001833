#pragma once
// One published message: immutable once made, shared by every channel that delivers it.
//
// The envelope {"type":"message","topic":T,"offset":N,"data":D} is built once, when the message is made, around
// D as the publisher's JSON text (kept byte for byte, never parsed and serialized again). A binary payload
// travels as text too: its data is binary_prefix followed by the bytes in base64, and its envelope
// {"type":"message","topic":T,"offset":N,"encoding":"base64","data":"BASE64"} (docs/protocol.md); transports that
// carry bytes (WebSocket binary frames) decode it once per message.
// Transports that need other wire bytes (a WebSocket frame, an SSE event) build them once per message through
// encoding(), which caches them in a slot the transport owns; every subscriber then shares those bytes.
// Everything here runs on the loop thread, which is why the cache needs no lock.

#include <switchboard/position.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace switchboard {

using shared_bytes = std::shared_ptr<std::string const>;

class message {
public:
    /// Data that starts with this is a binary payload: the bytes in canonical base64 follow. JSON text never
    /// starts with a letter `b`, so the two cannot be confused.
    static constexpr std::string_view binary_prefix = "b64:";

    /// `data` is the JSON text of the payload, kept byte for byte; it must be valid JSON (callers check or
    /// serialize it), or binary_prefix and base64.
    /// `sequence`: the backplane's number for this publish across all its topics (backplane::pattern_history),
    /// 0 when it gives none.
    message(std::string topic, position pos, std::string_view data, std::uint64_t sequence = 0);

    /// The payload is bytes (published as a binary WebSocket frame or application/octet-stream), not JSON.
    bool binary() const noexcept { return binary_; }

    std::string const& topic() const noexcept { return topic_; }
    std::uint64_t offset() const noexcept { return position_.offset; }
    std::string const& epoch() const noexcept { return position_.epoch; }
    position const& where() const noexcept { return position_; }
    /// The backplane's sequence of this publish (increasing across all topics); 0 when it gives none.
    std::uint64_t sequence() const noexcept { return sequence_; }
    std::chrono::steady_clock::time_point published_at() const noexcept { return published_at_; }

    /// The JSON envelope, shared (one line unless the data holds line feeds).
    shared_bytes const& envelope() const noexcept { return envelope_; }
    /// The payload (the "data" member) as JSON text, a view into the envelope: for a binary payload, its base64
    /// as a JSON string.
    std::string_view data() const noexcept;
    /// The bytes of a binary payload (decoded from data() on each call: transports cache what they build).
    std::string binary_payload() const;

    /// The envelope with the backplane's sequence after the offset, {"type":"message","topic":T,"offset":N,
    /// "sequence":S,...}: what a client holding patterns gets, so that it can resume them (docs/protocol.md).
    /// Built on each call: transports cache what they build from it.
    std::string sequenced_envelope() const;

    /// The envelope of this message as a delta against `previous` (docs/protocol.md "Delta updates"):
    /// {"type":"message","topic":T,"offset":N,"encoding":"delta","data":"DELTA"}, DELTA being the Fossil delta that
    /// turns previous's data into this one's, as a JSON string. Built once per message and shared: `previous`
    /// must be the message just before this one on its topic (same epoch, offset one less), which every caller
    /// gets the same bytes for. The full envelope() instead when `previous` is not that message, when either
    /// payload is binary, or when the delta is not smaller than the full envelope.
    shared_bytes const& delta_envelope(message const& previous) const;

    /// The number of encoding slots; each transport reserves one with reserve_encoding_slot().
    static constexpr std::size_t encoding_slots = 9;
    static std::size_t reserve_encoding_slot();

    /// The bytes of this message in the wire format owned by `slot`, built by `build(message const&)` the
    /// first time and shared afterwards. `build` returns the bytes, or shared bytes it already has (another
    /// slot's, when a format turns out to be the same as another's for this message).
    template <class Build>
    shared_bytes const& encoding(std::size_t slot, Build&& build) const
    {
        auto& cached = encodings_[slot];
        if (!cached) {
            if constexpr (std::is_convertible_v<std::invoke_result_t<Build, message const&>, shared_bytes>)
                cached = build(*this);
            else
                cached = std::make_shared<std::string const>(build(*this));
        }
        return cached;
    }

private:
    std::string topic_;
    position position_;
    std::uint64_t sequence_;
    std::chrono::steady_clock::time_point published_at_;
    shared_bytes envelope_;
    std::size_t data_begin_;
    bool binary_ = false;
    mutable std::array<shared_bytes, encoding_slots> encodings_;
};

using message_ptr = std::shared_ptr<message const>;

}  // namespace switchboard
