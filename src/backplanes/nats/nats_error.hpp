#pragma once
// The NATS backplane's own errors, for its logs and tests. nats_backplane reports every one of them to its callers
// as error::backplane_unavailable (HTTP 503); they stay distinct here so logs and tests can tell why it failed.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace switchboard::nats {

enum class nats_error {
    not_connected = 1,  // the link is not connected now: nothing was sent
    timed_out,          // sent, but no answer in time: it may or may not have taken effect
    no_responders,      // nobody listens on the subject (no stream, JetStream off)
    api_error,          // JetStream answered with an error
    conflict,           // another node kept winning the race for a topic's next offset
    bad_reply,          // an answer that cannot be read
    closed,             // the link or backplane was closed
    overloaded,         // too many operations pending: refused (backpressure, not a queue)
};

boost::system::error_category const& nats_category() noexcept;

inline boost::system::error_code make_error_code(nats_error e) noexcept
{
    return {static_cast<int>(e), nats_category()};
}

}  // namespace switchboard::nats

template <>
struct boost::system::is_error_code_enum<switchboard::nats::nats_error> : std::true_type {};
