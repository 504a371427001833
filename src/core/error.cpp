#include <switchboard/error.hpp>

#include <string>

namespace switchboard {
namespace {

struct entry {
    std::string_view name;
    std::string_view message;
    unsigned status;
};

entry describe(int ev) noexcept
{
    switch (static_cast<error>(ev)) {
    case error::invalid_json: return {"invalid_json", "not valid JSON", 400};
    case error::unknown_type: return {"unknown_type", "unknown command type", 400};
    case error::missing_field: return {"missing_field", "a required field is missing or has the wrong type", 400};
    case error::invalid_topic: return {"invalid_topic", "topic must be 1-128 characters of [A-Za-z0-9_.:@/-]", 400};
    case error::invalid_cursor: return {"invalid_cursor", "cursor cannot be read", 400};
    case error::too_many_topics: return {"too_many_topics", "too many topics", 400};
    case error::message_too_large: return {"message_too_large", "message is over the size limit", 413};
    case error::binary_not_supported: return {"binary_not_supported", "binary frames are not supported", 400};
    case error::rejected: return {"rejected", "rejected by the application", 403};
    case error::headers_too_large: return {"headers_too_large", "request headers are over the size limit", 431};
    case error::bad_request: return {"bad_request", "malformed HTTP request", 400};
    case error::not_found: return {"not_found", "no such path", 404};
    case error::method_not_allowed: return {"method_not_allowed", "method not allowed for this path", 405};
    case error::too_many_connections: return {"too_many_connections", "too many connections", 503};
    case error::shutting_down: return {"shutting_down", "server is shutting down", 503};
    case error::internal_error: return {"internal_error", "internal error", 500};
    case error::backplane_unavailable: return {"backplane_unavailable", "the backplane (its broker: Redis or NATS) is unreachable", 503};
    case error::transport_disabled: return {"transport_disabled", "this transport is turned off on this server", 503};
    case error::unauthorized: return {"unauthorized", "a valid token is required", 401};
    case error::token_expired: return {"token_expired", "the token has expired", 401};
    case error::forbidden: return {"forbidden", "not allowed for this topic", 403};
    case error::origin_not_allowed: return {"origin_not_allowed", "origin not allowed", 403};
    case error::rate_limited: return {"rate_limited", "too many requests; retry later", 429};
    case error::unsubscribed: return {"unsubscribed", "unsubscribed before the subscription was made", 409};
    case error::uri_too_long: return {"uri_too_long", "the request line is over the header size limit", 414};
    case error::expectation_failed: return {"expectation_failed", "only the expectation 100-continue is supported", 417};
    case error::not_implemented: return {"not_implemented", "only the chunked transfer coding is supported", 501};
    case error::version_not_supported: return {"version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported", 505};
    case error::invalid_pattern: return {"invalid_pattern", "pattern must be dot-separated tokens: literal, '*', or '>' last", 400};
    case error::presence_unavailable: return {"presence_unavailable", "presence is not available over this server's backplane", 501};
    case error::too_many_members: return {"too_many_members", "the topic's presence is at its member limit", 409};
    case error::backend_unavailable: return {"backend_unavailable", "the application's backend is unavailable; retry later", 503};
    case error::invalid_idempotency_key: return {"invalid_idempotency_key", "idempotency key must be 1-128 visible ASCII characters ('!' to '~')", 400};
    case error::unknown_namespace: return {"unknown_namespace", "the topic's namespace (its name before ':') is not one of this server's", 400};
    case error::too_many_pending: return {"too_many_pending", "too many commands still waiting for an answer; wait for some", 429};
    }
    return {"internal_error", "unknown switchboard error", 500};
}

class category final : public boost::system::error_category {
public:
    char const* name() const noexcept override { return "switchboard"; }
    std::string message(int ev) const override { return std::string(describe(ev).message); }
};

}  // namespace

boost::system::error_category const& error_category() noexcept
{
    static category const instance;
    return instance;
}

std::string_view error_name(boost::system::error_code const& ec) noexcept
{
    if (ec.category() != error_category())
        return "internal_error";
    return describe(ec.value()).name;
}

unsigned http_status(boost::system::error_code const& ec) noexcept
{
    if (ec.category() != error_category())
        return 500;
    return describe(ec.value()).status;
}

}  // namespace switchboard
