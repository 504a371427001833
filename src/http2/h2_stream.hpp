#pragma once
// One HTTP/2 stream carrying one request (RFC 9113 8.1): its header fields become an http_request as HTTP/1.1's
// parser would make it (version 1.1, Host from :authority, cookies joined), its body is bounded by
// max_message_size and its header list by http2.max_header_list_size, and once it is complete it is routed like an
// HTTP/1.1 request (exchange::dispatch). The answer goes to the h2_connection as HEADERS and DATA frames.
// An extended CONNECT (RFC 8441: :method CONNECT with a :protocol) is a tunnel: it is routed as soon as its
// header block is in (its body is the tunnel's bytes, it never ends as a request does), and once a channel takes
// the stream (push_io) the DATA that follows is that channel's input. A plain CONNECT (a proxy tunnel) is 405.
// Loop thread only.

#include "http/connection_slot.hpp"
#include "http/exchange.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::detail {

class h2_connection;
class h2_stream_io;

class h2_stream final : public exchange {
public:
    h2_stream(std::weak_ptr<h2_connection> conn, std::int32_t id, server_context& ctx, packed_address remote_address);
    ~h2_stream() override;

    http_request& request() noexcept override { return request_; }
    query const& parameters() const noexcept override { return query_; }
    void respond(http_response res) override;
    bool secure() const noexcept override { return false; }
    /// `listener` is told if the stream is reset or the connection ends before the answer.
    void watch_for_departure(departure_listener& listener) override { gone_ = &listener; }
    void stop_watching() override { gone_ = nullptr; }
    void set_aside_request() override;
    /// Resets the stream (RST_STREAM CANCEL).
    void abandon() override;
    /// The stream as a push channel's byte stream (SSE over HTTP/2): its DATA frames carry the channel's outbox.
    push_io_factory push_io() override;
    boost::system::error_code admit_channel() override;
    std::string_view connect_protocol() const noexcept override { return protocol_; }

    // For h2_connection.
    std::int32_t id() const noexcept { return id_; }
    /// One field of the request's header list; past http2.max_header_list_size the rest are dropped, and
    /// header_block_done() answers 431.
    void add_header(std::string_view name, std::string_view value);
    /// The header block is over: refuses a list that was too large, and routes an extended CONNECT. False when
    /// the stream was answered (an extended CONNECT's END_STREAM still counts: true for it).
    bool header_block_done();
    /// Request body bytes; past max_message_size the stream is answered 413 and the rest ignored. A tunnel's
    /// bytes go to its channel once there is one (before that they wait in the body, bounded the same way).
    void add_body(std::string_view bytes);
    /// END_STREAM: the request is complete, route it.
    void complete();
    /// The stream is closed (answered, reset with `code`, or its connection ended): nothing more is sent.
    void closed(std::uint32_t code = 0);
    /// The response body for the DATA frames: copies up to `length` bytes; `eof` once it is all out.
    std::size_t read_body(std::uint8_t* out, std::size_t length, bool& eof);
    /// A push channel's io carrying this stream (push_io), or null.
    h2_stream_io* push() const noexcept { return push_; }

    // For h2_stream_io.
    void attach(h2_stream_io* io) noexcept { push_ = io; }
    void detach(h2_stream_io* io) noexcept;
    /// Holds the push channel alive while the stream is open.
    void keep(std::shared_ptr<void> owner) { keep_ = std::move(owner); answered_ = true; }
    /// A request not complete by then, or an answer not delivered by then, is reset. None while a route holds
    /// the request (a long poll: its own hold bounds it).
    std::optional<std::chrono::steady_clock::time_point> deadline;

private:
    query& request_query() noexcept override { return query_; }

    std::weak_ptr<h2_connection> conn_;
    std::int32_t id_;
    http_request request_;
    query query_;
    std::string authority_;
    std::string protocol_;  // an extended CONNECT's :protocol
    bool tunnel_ = false;   // an extended CONNECT, routed at the end of its header block
    std::size_t header_bytes_ = 0;
    bool headers_too_large_ = false;
    bool complete_ = false;
    bool answered_ = false;
    bool closed_ = false;
    std::string response_body_;
    std::size_t body_sent_ = 0;
    departure_listener* gone_ = nullptr;
    h2_stream_io* push_ = nullptr;
    std::shared_ptr<void> keep_;
    connection_slot slot_;  // a channel's place in the connection limits (admit_channel)
};

}  // namespace switchboard::detail
