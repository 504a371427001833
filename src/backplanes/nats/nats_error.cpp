#include "backplanes/nats/nats_error.hpp"

#include <string>

namespace switchboard::nats {

namespace {

struct category final : boost::system::error_category {
    char const* name() const noexcept override { return "switchboard.nats"; }
    std::string message(int e) const override
    {
        switch (static_cast<nats_error>(e)) {
        case nats_error::not_connected: return "not connected to NATS";
        case nats_error::timed_out: return "no answer from NATS in time";
        case nats_error::no_responders: return "no responders (is JetStream enabled and the stream there?)";
        case nats_error::api_error: return "JetStream refused the request";
        case nats_error::conflict: return "lost the race for the topic's next offset too many times";
        case nats_error::bad_reply: return "unreadable answer from NATS";
        case nats_error::closed: return "closed";
        case nats_error::overloaded: return "too many operations pending";
        }
        return "unknown NATS error";
    }
};

}  // namespace

boost::system::error_category const& nats_category() noexcept
{
    static category const instance;
    return instance;
}

}  // namespace switchboard::nats
