#include "support/sse_client.hpp"

#include "support/response_head.hpp"
#include "support/run_until.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace switchboard::test {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A head this long without its blank line is not an HTTP response worth waiting for.
constexpr std::size_t max_head = 64 * 1024;

// Whether a header value such as "gzip, chunked" holds `token` (lowercase), ignoring case.
bool has_token(std::optional<std::string> value, std::string_view token) {
    if (!value) {
        return false;
    }
    std::transform(value->begin(), value->end(), value->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value->find(token) != std::string::npos;
}

}  // namespace

std::shared_ptr<sse_client> sse_client::create(asio::io_context& ioc) {
    return std::shared_ptr<sse_client>(new sse_client(ioc));
}

sse_client::sse_client(asio::io_context& ioc)
    : stream_(ioc), parser_([this](sse_event event) {
          // Counted here because wait predicates ask for it after every batch of handlers.
          message_count_ += event.type == "message" ? 1 : 0;
          events_.push_back(std::move(event));
      }) {}

void sse_client::set_receive_buffer_size(int bytes) {
    receive_buffer_size_ = bytes;
}

void sse_client::connect(server_port port, std::string target, header_list headers) {
    if (connecting_) {
        return;
    }
    connecting_ = true;
    if (port.tls) {
        stream_.use_tls();
    }
    header_list fields = {{"Host", "127.0.0.1:" + std::to_string(port.port)},
                          {"Accept", "text/event-stream"},
                          {"Cache-Control", "no-cache"},
                          {"User-Agent", "switchboard-test-sse"}};
    std::erase_if(fields, [&](auto const& field) {
        return std::any_of(headers.begin(), headers.end(),
                           [&](auto const& given) { return iequals(given.first, field.first); });
    });
    fields.insert(fields.end(), headers.begin(), headers.end());
    request_ = "GET " + target + " HTTP/1.1\r\n";
    for (auto const& [name, value] : fields) {
        request_ += name + ": " + value + "\r\n";
    }
    request_ += "\r\n";

    if (receive_buffer_size_ > 0) {
        error_code ec;
        stream_.next_layer().socket().open(asio::ip::tcp::v4(), ec);
        stream_.next_layer().socket().set_option(asio::socket_base::receive_buffer_size(receive_buffer_size_), ec);
    }
    asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port.port);
    stream_.next_layer().async_connect(endpoint, [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
}

void sse_client::on_connect(error_code ec) {
    if (closed_) {
        return;
    }
    if (ec) {
        return fail(ec);
    }
    stream_.async_start([self = shared_from_this()](error_code ec) { self->on_start(ec); });
}

void sse_client::on_start(error_code ec) {
    if (closed_) {
        return;
    }
    if (ec) {
        return fail(ec);
    }
    asio::async_write(stream_, asio::buffer(request_),
                      [self = shared_from_this()](error_code ec, std::size_t bytes) { self->on_write(ec, bytes); });
}

void sse_client::on_write(error_code ec, std::size_t) {
    if (closed_) {
        return;
    }
    if (ec) {
        return fail(ec);
    }
    requested_ = true;
    do_read();
}

void sse_client::do_read() {
    if (paused_ || reading_ || !requested_ || closed_ || failed_ || ended_) {
        return;
    }
    reading_ = true;
    stream_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](error_code ec, std::size_t bytes) {
        // A TLS server that closes without close_notify has ended the stream as plainly as an EOF.
        self->on_read(ec == asio::ssl::error::stream_truncated ? asio::error::eof : ec, bytes);
    });
}

void sse_client::on_read(error_code ec, std::size_t bytes) {
    reading_ = false;
    if (closed_) {
        return;
    }
    std::string_view data(read_buffer_.data(), bytes);
    if (!data.empty()) {
        head_done_ ? on_body_bytes(data) : on_head_bytes(data);
    }
    if (ec) {
        return head_done_ ? end(ec) : fail(ec);
    }
    do_read();
}

void sse_client::on_head_bytes(std::string_view bytes) {
    head_.append(bytes);
    auto const end_of_head = head_.find("\r\n\r\n");
    if (end_of_head == std::string::npos) {
        if (head_.size() > max_head) {
            fail(make_error_code(boost::system::errc::protocol_error));
        }
        return;
    }
    auto head = parse_response_head(std::string_view(head_).substr(0, end_of_head + 2));
    if (!head) {
        return fail(make_error_code(boost::system::errc::protocol_error));
    }
    headers_ = std::move(head->headers);
    is_chunked_ = has_token(header("Transfer-Encoding"), "chunked");
    if (auto length = header("Content-Length"); length && !is_chunked_) {
        std::size_t n = 0;
        if (std::from_chars(length->data(), length->data() + length->size(), n).ec == std::errc()) {
            content_length_ = n;
        }
    }
    status_ = head->status;
    head_done_ = true;
    auto body = head_.substr(end_of_head + 4);
    head_.clear();
    if (status_ != 200 && content_length_ == 0u) {
        return end({});
    }
    if (!body.empty()) {
        on_body_bytes(body);
    }
}

void sse_client::on_body_bytes(std::string_view bytes) {
    body_bytes_ += bytes.size();
    std::string_view decoded = bytes;
    if (is_chunked_) {
        decoded_.clear();
        if (!chunked_.feed(bytes, decoded_)) {
            return end(make_error_code(boost::system::errc::protocol_error));
        }
        decoded = decoded_;
    }
    if (status_ == 200) {
        parser_.feed(decoded);
    } else {
        on_error_body(decoded);
    }
    if (is_chunked_ && chunked_.done()) {
        end({});
    }
}

void sse_client::on_error_body(std::string_view decoded) {
    error_body_.append(decoded);
    if (content_length_ && error_body_.size() >= *content_length_) {
        error_body_.resize(*content_length_);
        end({});
    }
}

void sse_client::fail(error_code ec) {
    if (failed_ || ended_) {
        return;
    }
    failed_ = true;
    error_ = ec;
    error_code ignored;
    stream_.next_layer().socket().close(ignored);
}

void sse_client::end(error_code ec) {
    if (failed_ || ended_) {
        return;
    }
    ended_ = true;
    error_ = ec;
    error_code ignored;
    stream_.next_layer().socket().close(ignored);
}

void sse_client::close() {
    closed_ = true;
    error_code ignored;
    stream_.next_layer().socket().close(ignored);
}

void sse_client::pause_reading() {
    paused_ = true;
}

void sse_client::resume_reading() {
    paused_ = false;
    do_read();
}

std::optional<std::string> sse_client::header(std::string_view name) const {
    auto it = headers_.find(name);
    if (it == headers_.end()) {
        return std::nullopt;
    }
    return it->second;
}

nlohmann::json sse_client::error_json() const {
    return nlohmann::json::parse(error_body_, nullptr, false);
}

std::vector<nlohmann::json> sse_client::messages() const {
    std::vector<nlohmann::json> out;
    for (auto const& event : events_) {
        if (event.type == "message") {
            auto parsed = nlohmann::json::parse(event.data, nullptr, false);
            out.push_back(parsed.is_discarded() ? nlohmann::json(event.data) : std::move(parsed));
        }
    }
    return out;
}

std::optional<sse_event> sse_client::find_event(std::string_view type) const {
    auto it = std::find_if(events_.begin(), events_.end(), [&](auto const& e) { return e.type == type; });
    if (it == events_.end()) {
        return std::nullopt;
    }
    return *it;
}

bool sse_client::wait_status(asio::io_context& ioc, duration deadline) {
    return run_until(ioc, [this] { return status_ != 0 || failed_; }, deadline) && status_ != 0;
}

bool sse_client::wait_events(asio::io_context& ioc, std::size_t count, duration deadline) {
    return run_until(ioc, [this, count] { return events_.size() >= count; }, deadline);
}

bool sse_client::wait_messages(asio::io_context& ioc, std::size_t count, duration deadline) {
    return run_until(ioc, [this, count] { return message_count() >= count; }, deadline);
}

bool sse_client::wait_ended(asio::io_context& ioc, duration deadline) {
    return run_until(ioc, [this] { return ended_; }, deadline);
}

}  // namespace switchboard::test
