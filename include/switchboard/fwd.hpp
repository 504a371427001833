#pragma once
// Names of switchboard's public types, and of the Beast, Asio and nlohmann types its API mentions, without their
// definitions: a header that only passes them by reference or pointer includes this instead of what defines
// them (as nlohmann's json_fwd.hpp and spdlog's fwd.h do). <switchboard/server.hpp> is built on it, so including
// it costs a fraction of Asio's io_context.hpp (docs/architecture.md, "Public headers").
//
// The declarations of other libraries' templates repeat theirs exactly, without default arguments (those stay
// where the library defines them); http.hpp and tests/unit/public_headers_test.cpp check that each alias names
// the very type the library defines.

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>

namespace boost::system {
class error_code;
}  // namespace boost::system

namespace boost::asio {
class io_context;
namespace ip {
class tcp;
template <typename InternetProtocol>
class basic_endpoint;
}  // namespace ip
}  // namespace boost::asio

namespace boost::beast::http {
enum class verb;
template <class Allocator>
class basic_fields;
template <class CharT, class Traits, class Allocator>
struct basic_string_body;
template <bool isRequest, class Body, class Fields>
class message;
}  // namespace boost::beast::http

namespace switchboard {

namespace detail::fwd {
using string_body = boost::beast::http::basic_string_body<char, std::char_traits<char>, std::allocator<char>>;
using fields = boost::beast::http::basic_fields<std::allocator<char>>;
}  // namespace detail::fwd

/// An HTTP request or answer as Beast holds it: boost::beast::http::request<string_body> and response<string_body>
/// (<switchboard/http.hpp> defines them).
using http_request = boost::beast::http::message<true, detail::fwd::string_body, detail::fwd::fields>;
using http_response = boost::beast::http::message<false, detail::fwd::string_body, detail::fwd::fields>;
/// An HTTP method: boost::beast::http::verb.
using http_method = boost::beast::http::verb;
class http_responder;
/// A TCP address and port: boost::asio::ip::tcp::endpoint (<boost/asio/ip/tcp.hpp> defines it).
using tcp_endpoint = boost::asio::ip::basic_endpoint<boost::asio::ip::tcp>;
struct route_options;

struct identity;
using identity_ptr = std::shared_ptr<identity const>;
struct position;
class message;
class channel;
using channel_ptr = std::shared_ptr<channel>;
class hub;
class hub_view;
class backplane;
class memory_backplane;
class redis_backplane;
struct hooks;
struct history_options;
struct security_options;
struct server_options;
struct server_stats;
class server;

}  // namespace switchboard
