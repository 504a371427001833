#include "http2/h2_stream.hpp"

#include "http/http_responses.hpp"
#include "http2/h2_connection.hpp"
#include "http2/h2_stream_io.hpp"
#include "server_context.hpp"

#include <switchboard/error.hpp>

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace switchboard::detail {

namespace http = boost::beast::http;

h2_stream::h2_stream(std::weak_ptr<h2_connection> conn, std::int32_t id, server_context& ctx,
                     packed_address remote_address)
    : exchange(ctx, std::move(remote_address)), conn_(std::move(conn)), id_(id)
{
    request_.version(11);  // what the routes and the responses expect; keep-alive means nothing here
    deadline = std::chrono::steady_clock::now() + ctx_.options.request_timeout;
}

h2_stream::~h2_stream()
{
    // Destroyed with its channel still attached (the loop torn down while the stream was open): the io must not
    // reach back into it.
    if (auto* io = std::exchange(push_, nullptr))
        io->forget_stream();
}

void h2_stream::add_header(std::string_view name, std::string_view value)
{
    // The size RFC 9113 6.5.2 defines for SETTINGS_MAX_HEADER_LIST_SIZE: name, value and 32 per field.
    header_bytes_ += name.size() + value.size() + 32;
    if (header_bytes_ > ctx_.options.http2.max_header_list_size)
        headers_too_large_ = true;
    if (headers_too_large_)
        return;
    // nghttp2 has already checked the fields (lowercase names, pseudo-fields first and known, no
    // connection-specific fields).
    if (name == ":method")
        request_.method_string(value);
    else if (name == ":path")
        request_.target(value);
    else if (name == ":authority")
        authority_ = value;
    else if (name == ":protocol")
        protocol_ = value;  // nghttp2 lets it through with CONNECT only, since we announce ENABLE_CONNECT_PROTOCOL
    else if (name.starts_with(':'))
        return;  // :scheme
    else if (name == "cookie" && request_.find(http::field::cookie) != request_.end()) {
        // Cookies may come as one field each (RFC 9113 8.2.3): joined, as HTTP/1.1 sends them.
        auto joined = std::string(request_[http::field::cookie]);
        joined += "; ";
        joined += value;
        request_.set(http::field::cookie, joined);
    } else
        request_.insert(name, value);
}

bool h2_stream::header_block_done()
{
    if (request_.find(http::field::host) == request_.end() && !authority_.empty())
        request_.set(http::field::host, authority_);
    authority_.clear();
    if (headers_too_large_) {
        respond_error(error::headers_too_large);
        return false;
    }
    if (request_.method() != http::verb::connect)
        return !answered_;
    if (protocol_.empty()) {
        // A proxy tunnel (RFC 9113 8.5): this server is no proxy.
        ctx_.metrics.count_error(error_name(error::method_not_allowed));
        auto res = error_response(request_, error::method_not_allowed,
                                  "CONNECT is served only as extended CONNECT (RFC 8441, :protocol websocket)");
        res.set(http::field::allow, "GET, HEAD, POST, OPTIONS");
        respond(std::move(res));
        return false;
    }
    // The request is all there: its body is the tunnel's first bytes. The request deadline stands until a channel
    // takes the stream (an authentication hook that never answers does not hold it).
    tunnel_ = true;
    dispatch();
    return true;
}

void h2_stream::add_body(std::string_view bytes)
{
    if (tunnel_ && push_)
        return push_->received(bytes);
    if (answered_)
        return;
    auto& body = request_.body();
    if (body.size() + bytes.size() > ctx_.options.max_message_size)
        return respond_error(error::message_too_large);
    body.append(bytes);
}

void h2_stream::complete()
{
    complete_ = true;
    if (tunnel_) {
        // The client ended its side of the tunnel (a TCP FIN's meaning, RFC 8441 4): its channel hears it after
        // the bytes before it; a channel made later hears it as it starts (push_io).
        if (push_)
            push_->peer_ended();
        return;
    }
    if (answered_)
        return;
    deadline.reset();  // a route may hold the request (a long poll): its own timer bounds it
    dispatch();
}

void h2_stream::respond(http_response res)
{
    if (answered_ || closed_)
        return;
    answered_ = true;
    gone_ = nullptr;
    finish_answer(res, &request_, cors_origin());
    response_body_ = std::move(res.body());
    // The answer must leave in time: a client that never opens its window does not keep it forever.
    deadline = std::chrono::steady_clock::now() + ctx_.options.request_timeout;
    set_aside_request();
    if (auto conn = conn_.lock())
        conn->submit_response(*this, res);
}

std::size_t h2_stream::read_body(std::uint8_t* out, std::size_t length, bool& eof)
{
    auto const n = std::min(length, response_body_.size() - body_sent_);
    std::memcpy(out, response_body_.data() + body_sent_, n);
    body_sent_ += n;
    eof = body_sent_ == response_body_.size();
    return n;
}

void h2_stream::set_aside_request()
{
    // What an answer needs of the request: its method (HEAD) and version.
    auto const method = request_.method();
    request_ = {};
    request_.version(11);
    request_.method(method);
    query_ = {};
}

void h2_stream::abandon()
{
    gone_ = nullptr;
    answered_ = true;
    if (auto conn = conn_.lock(); conn && !closed_)
        conn->reset_stream(id_, NGHTTP2_CANCEL);
}

exchange::push_io_factory h2_stream::push_io()
{
    return [self = std::static_pointer_cast<h2_stream>(shared_from_this())](io_owner& owner) {
        self->gone_ = nullptr;
        self->answered_ = true;  // the channel answers from now on
        self->deadline.reset();
        auto io = std::make_unique<h2_stream_io>(self->ctx_.executor, self->conn_, self->closed_ ? nullptr : self.get(),
                                                 owner);
        if (self->tunnel_ && self->complete_)
            io->peer_ended();  // the client ended its side before the channel was made
        return std::unique_ptr<channel_io>(std::move(io));
    };
}

boost::system::error_code h2_stream::admit_channel()
{
    auto const address = client_ip();
    auto const& counts = ctx_.connections;
    if (counts.total >= ctx_.options.max_connections || counts.at(address) >= ctx_.options.max_connections_per_address)
        return error::too_many_connections;
    slot_ = connection_slot(ctx_.connections, address);
    return {};
}

void h2_stream::detach(h2_stream_io* io) noexcept
{
    if (push_ == io)
        push_ = nullptr;
}

void h2_stream::closed(std::uint32_t code)
{
    if (closed_)
        return;
    closed_ = true;
    deadline.reset();
    response_body_.clear();
    response_body_.shrink_to_fit();
    if (auto* io = std::exchange(push_, nullptr)) {
        auto const keep = std::move(keep_);  // the channel outlives its io's last call
        io->stream_closed(code);
    }
    if (auto* const gone = std::exchange(gone_, nullptr))
        gone->departed();
}

}  // namespace switchboard::detail
