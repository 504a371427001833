#pragma once
// The few response shapes every HTTP endpoint uses, so status, headers and error bodies agree everywhere.

#include <switchboard/http.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace switchboard::detail {

/// 200 (or `status`) with a JSON body.
http_response json_response(http_request const& req, std::string body, unsigned status = 200);

/// A response with `req`'s version and keep-alive, Server, Content-Type and Cache-Control, and no body nor length
/// yet. As it is: the answer to HEAD on a route whose body is a stream (SSE) or is not written yet (a long poll),
/// which must neither start the stream nor hold the poll, and cannot know the length (RFC 9110 8.6).
http_response response_head(http_request const& req, std::string_view content_type, std::string_view cache_control,
                            unsigned status = 200);

/// The status for `ec` with {"error":{"code":...,"message":...}}; `message` defaults to the error's own text.
http_response error_response(http_request const& req, boost::system::error_code ec, std::string_view message = {});

/// The JSON error object alone, for error frames and events: {"code":...,"message":...}.
std::string error_body(boost::system::error_code ec, std::string_view message = {});

}  // namespace switchboard::detail

namespace switchboard::detail {

/// The response as bytes on the wire, for a connection a transport has already taken over.
std::string serialize(http_response const& res);

}  // namespace switchboard::detail
