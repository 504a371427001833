// error.hpp: every switchboard error has a stable protocol name and an HTTP status; anything else reads as an
// internal error.

#include <switchboard/error.hpp>

#include <boost/system/errc.hpp>
#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>
#include <string_view>

namespace {

using switchboard::error;

struct expected_error {
    error value;
    std::string_view name;
    unsigned status;
};

constexpr expected_error every_error[] = {
    {error::invalid_json, "invalid_json", 400},
    {error::unknown_type, "unknown_type", 400},
    {error::missing_field, "missing_field", 400},
    {error::invalid_topic, "invalid_topic", 400},
    {error::invalid_cursor, "invalid_cursor", 400},
    {error::too_many_topics, "too_many_topics", 400},
    {error::message_too_large, "message_too_large", 413},
    {error::binary_not_supported, "binary_not_supported", 400},
    {error::rejected, "rejected", 403},
    {error::headers_too_large, "headers_too_large", 431},
    {error::bad_request, "bad_request", 400},
    {error::not_found, "not_found", 404},
    {error::method_not_allowed, "method_not_allowed", 405},
    {error::too_many_connections, "too_many_connections", 503},
    {error::shutting_down, "shutting_down", 503},
    {error::internal_error, "internal_error", 500},
    {error::backplane_unavailable, "backplane_unavailable", 503},
    {error::transport_disabled, "transport_disabled", 503},
    {error::unauthorized, "unauthorized", 401},
    {error::token_expired, "token_expired", 401},
    {error::forbidden, "forbidden", 403},
    {error::origin_not_allowed, "origin_not_allowed", 403},
    {error::rate_limited, "rate_limited", 429},
    {error::unsubscribed, "unsubscribed", 409},
    {error::uri_too_long, "uri_too_long", 414},
    {error::expectation_failed, "expectation_failed", 417},
    {error::not_implemented, "not_implemented", 501},
    {error::version_not_supported, "version_not_supported", 505},
    {error::too_many_pending, "too_many_pending", 429},
    {error::invalid_pattern, "invalid_pattern", 400},
    {error::presence_unavailable, "presence_unavailable", 501},
    {error::too_many_members, "too_many_members", 409},
    {error::backend_unavailable, "backend_unavailable", 503},
    {error::invalid_idempotency_key, "invalid_idempotency_key", 400},
};

TEST(error, names_every_value)
{
    for (auto const& e : every_error)
        EXPECT_EQ(switchboard::error_name(e.value), e.name) << static_cast<int>(e.value);
}

TEST(error, maps_every_value_to_its_http_status)
{
    for (auto const& e : every_error)
        EXPECT_EQ(switchboard::http_status(e.value), e.status) << e.name;
}

TEST(error, the_table_covers_every_enumerator_once)
{
    // The enum runs from invalid_json = 1 to invalid_idempotency_key without gaps.
    ASSERT_EQ(std::size(every_error), static_cast<std::size_t>(error::invalid_idempotency_key));
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < std::size(every_error); ++i) {
        EXPECT_EQ(static_cast<std::size_t>(every_error[i].value), i + 1);
        EXPECT_TRUE(names.insert(every_error[i].name).second) << every_error[i].name;
    }
}

TEST(error, every_value_has_a_message_and_the_switchboard_category)
{
    for (auto const& e : every_error) {
        boost::system::error_code const ec = e.value;  // is_error_code_enum makes this implicit
        EXPECT_TRUE(ec) << e.name;
        EXPECT_EQ(ec.category(), switchboard::error_category());
        EXPECT_EQ(ec, e.value);
        EXPECT_FALSE(ec.message().empty()) << e.name;
    }
    EXPECT_STREQ(switchboard::error_category().name(), "switchboard");
}

TEST(error, reads_other_codes_as_internal_errors)
{
    auto const foreign = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    EXPECT_EQ(switchboard::error_name(foreign), "internal_error");
    EXPECT_EQ(switchboard::http_status(foreign), 500u);

    EXPECT_EQ(switchboard::error_name(boost::system::error_code{}), "internal_error");
    EXPECT_EQ(switchboard::http_status(boost::system::error_code{}), 500u);

    boost::system::error_code const unknown(999, switchboard::error_category());
    EXPECT_EQ(switchboard::error_name(unknown), "internal_error");
    EXPECT_EQ(switchboard::http_status(unknown), 500u);
    EXPECT_FALSE(unknown.message().empty());
}

TEST(error, a_foreign_code_with_the_same_value_is_not_a_switchboard_error)
{
    // Value 4 is invalid_topic in our category and EINTR in the system one.
    boost::system::error_code const same_value(static_cast<int>(error::invalid_topic),
                                               boost::system::system_category());
    EXPECT_NE(same_value, error::invalid_topic);
    EXPECT_EQ(switchboard::error_name(same_value), "internal_error");
}

}  // namespace
