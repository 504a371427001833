// <switchboard/server.hpp> stays cheap to include (docs/architecture.md, "Public headers"): it compiles on its
// own (this file includes it first) and pulls in none of the heavy headers it only names through fwd.hpp.
#include <switchboard/server.hpp>

#ifdef BOOST_BEAST_HTTP_MESSAGE_HPP
#error "<switchboard/server.hpp> includes Beast's HTTP message: name it through <switchboard/fwd.hpp>"
#endif
#ifdef INCLUDE_NLOHMANN_JSON_HPP_
#error "<switchboard/server.hpp> includes all of nlohmann/json: <nlohmann/json_fwd.hpp> names json"
#endif
#ifdef BOOST_ASIO_IO_CONTEXT_HPP
#error "<switchboard/server.hpp> includes Asio's io_context.hpp: name it through <switchboard/fwd.hpp>"
#endif
#ifdef BOOST_ASIO_IP_TCP_HPP
#error "<switchboard/server.hpp> includes Asio's ip/tcp.hpp: name the endpoint through <switchboard/fwd.hpp>"
#endif

#include <switchboard/switchboard.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace switchboard {
namespace {

// The names fwd.hpp gives other libraries' types are those very types, once their headers are in.
TEST(public_headers, forward_names_are_the_libraries_types)
{
    static_assert(std::is_same_v<tcp_endpoint, boost::asio::ip::tcp::endpoint>);
    static_assert(std::is_same_v<http_request, boost::beast::http::request<boost::beast::http::string_body>>);
    static_assert(std::is_same_v<http_response, boost::beast::http::response<boost::beast::http::string_body>>);
    static_assert(std::is_same_v<http_method, boost::beast::http::verb>);
    static_assert(std::is_same_v<identity_ptr, std::shared_ptr<identity const>>);
    route_options const defaults;
    EXPECT_EQ(defaults.methods, std::vector<http_method>{http_method::get});
    EXPECT_FALSE(defaults.secured);
    EXPECT_EQ(defaults.timeout, std::chrono::seconds(30));
}

}  // namespace
}  // namespace switchboard
