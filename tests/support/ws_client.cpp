#include "support/ws_client.hpp"

#include "support/run_until.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace switchboard::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

// Far above the server's limit, so the client never is the side that refuses a message.
constexpr std::size_t read_message_max = 16 * 1024 * 1024;
constexpr auto connect_timeout = std::chrono::seconds(10);

bool is_message(nlohmann::json const& item) {
    return item.is_object() && item.value("type", "") == "message";
}

}  // namespace

std::shared_ptr<ws_client> ws_client::create(asio::io_context& ioc) {
    return std::shared_ptr<ws_client>(new ws_client(ioc));
}

ws_client::ws_client(asio::io_context& ioc) : ws_(ioc) {}

void ws_client::set_receive_buffer_size(int bytes) {
    receive_buffer_size_ = bytes;
}

void ws_client::connect(server_port port, std::string target, header_list headers) {
    if (connecting_) {
        return;
    }
    connecting_ = true;
    if (port.tls) {
        ws_.next_layer().use_tls();
    }
    host_ = "127.0.0.1:" + std::to_string(port.port);
    target_ = std::move(target);

    auto& socket = beast::get_lowest_layer(ws_).socket();
    if (receive_buffer_size_ > 0) {
        // The option must be set before connect to shape the TCP window; async_connect keeps an open socket.
        error_code ec;
        socket.open(asio::ip::tcp::v4(), ec);
        socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer_size_), ec);
    }
    ws_.read_message_max(read_message_max);
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.set_option(websocket::stream_base::decorator([headers = std::move(headers)](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "switchboard-test-ws");
        // Erase first so a given field replaces Beast's default while a repeated name keeps every value.
        for (auto const& [name, value] : headers) {
            req.erase(name);
        }
        for (auto const& [name, value] : headers) {
            req.insert(name, value);
        }
    }));

    beast::get_lowest_layer(ws_).expires_after(connect_timeout);
    asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port.port);
    beast::get_lowest_layer(ws_).async_connect(
        endpoint, [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
}

void ws_client::on_connect(error_code ec) {
    if (failed_ || closed_) {
        return;  // drop() came first
    }
    if (ec) {
        return fail(ec);
    }
    // The TLS handshake (if any) under the connect deadline; then the websocket stream's own timeouts apply.
    ws_.next_layer().async_start([self = shared_from_this()](error_code ec) { self->on_tls(ec); });
}

void ws_client::on_tls(error_code ec) {
    if (failed_ || closed_) {
        return;  // drop() came first
    }
    if (ec) {
        return fail(ec);
    }
    beast::get_lowest_layer(ws_).expires_never();
    ws_.async_handshake(handshake_response_, host_, target_,
                        [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

void ws_client::on_handshake(error_code ec) {
    if (failed_ || closed_) {
        return;  // drop() came first
    }
    // Beast reports a response it could judge with a websocket error (upgrade_declined for a non-101);
    // any other error means no complete response was read.
    if (!ec || ec.category() == make_error_code(websocket::error::closed).category()) {
        http_status_ = static_cast<int>(handshake_response_.result_int());
    }
    if (ec) {
        return fail(ec);
    }
    open_ = true;
    do_read();
    if (!writes_.empty()) {
        do_write();
    } else if (close_requested_) {
        do_close();
    }
}

void ws_client::do_read() {
    if (paused_ || reading_ || !open_) {
        return;
    }
    reading_ = true;
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_read(ec, bytes);
    });
}

void ws_client::on_read(error_code ec, std::size_t) {
    reading_ = false;
    if (ec) {
        return finish(ec);
    }
    if (ws_.got_text()) {
        auto text = beast::buffers_to_string(buffer_.data());
        texts_.push_back(text);
        auto parsed = nlohmann::json::parse(text, nullptr, false);
        if (parsed.is_discarded()) {
            ++invalid_frames_;
            received_.emplace_back(std::move(text));
        } else {
            // Counted here because wait predicates ask for it after every batch of handlers.
            message_count_ += is_message(parsed) ? 1 : 0;
            received_.push_back(std::move(parsed));
        }
    } else {
        ++binary_frames_;
        binaries_.push_back(beast::buffers_to_string(buffer_.data()));
    }
    buffer_.consume(buffer_.size());
    do_read();
}

void ws_client::send_text(std::string text) {
    enqueue({false, std::move(text)});
}

void ws_client::send_binary(std::string bytes) {
    enqueue({true, std::move(bytes)});
}

void ws_client::send_json(nlohmann::json const& command) {
    enqueue({false, command.dump()});
}

void ws_client::enqueue(frame f) {
    if (failed_ || closed_ || close_requested_) {
        return;
    }
    writes_.push_back(std::move(f));
    if (open_ && !writing_) {
        do_write();
    }
}

void ws_client::do_write() {
    writing_ = true;
    // The text/binary flag applies to the next write, and only one write is ever in flight.
    ws_.text(!writes_.front().binary);
    ws_.async_write(asio::buffer(writes_.front().payload),
                    [self = shared_from_this()](error_code ec, std::size_t bytes) { self->on_write(ec, bytes); });
}

void ws_client::on_write(error_code ec, std::size_t) {
    writing_ = false;
    // A drop() empties the queue under a write whose completion was already queued, successful.
    if (ec || closed_ || failed_) {
        return finish(ec);
    }
    writes_.pop_front();
    if (!writes_.empty()) {
        do_write();
    } else if (close_requested_) {
        do_close();
    }
}

void ws_client::close(int code, std::string reason) {
    if (failed_ || closed_ || close_requested_) {
        return;
    }
    close_requested_ = true;
    requested_close_code_ = code;
    requested_close_reason_ = std::move(reason);
    // Otherwise on_handshake or on_write starts it, after the queued frames.
    if (open_ && !writing_) {
        do_close();
    }
}

void ws_client::do_close() {
    if (closing_) {
        return;
    }
    closing_ = true;
    websocket::close_reason reason(static_cast<websocket::close_code>(requested_close_code_));
    reason.reason = requested_close_reason_;
    ws_.async_close(reason, [self = shared_from_this()](error_code ec) { self->on_close(ec); });
}

void ws_client::on_close(error_code ec) {
    finish(ec ? ec : error_code(websocket::error::closed));
}

void ws_client::drop(bool reset) {
    if (failed_ || closed_) {
        return;
    }
    auto& socket = beast::get_lowest_layer(ws_).socket();
    error_code ignored;
    if (reset) {
        // Linger 0 makes close() send RST instead of FIN.
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
    }
    // Both close the socket; the aborted operations' handlers then find the client already finished.
    if (open_) {
        finish(asio::error::operation_aborted);
    } else {
        fail(asio::error::operation_aborted);
    }
}

void ws_client::fail(error_code ec) {
    if (failed_ || closed_) {
        return;
    }
    failed_ = true;
    error_ = ec;
    writes_.clear();
    beast::get_lowest_layer(ws_).close();
}

void ws_client::finish(error_code ec) {
    if (failed_ || closed_) {
        return;
    }
    open_ = false;
    closed_ = true;
    error_ = ec;
    auto const& reason = ws_.reason();
    close_code_ = static_cast<int>(reason.code);
    close_reason_ = std::string(reason.reason.data(), reason.reason.size());
    writes_.clear();
    // Frees the descriptor now rather than when the last shared_ptr goes; aborts what is still pending.
    beast::get_lowest_layer(ws_).close();
}

void ws_client::pause_reading() {
    paused_ = true;
}

void ws_client::resume_reading() {
    paused_ = false;
    do_read();
}

std::vector<nlohmann::json> ws_client::messages() const {
    std::vector<nlohmann::json> out;
    for (auto const& item : received_) {
        if (is_message(item)) {
            out.push_back(item);
        }
    }
    return out;
}

std::optional<nlohmann::json> ws_client::find_reply(nlohmann::json const& id) const {
    for (auto const& item : received_) {
        if (item.is_object()) {
            auto it = item.find("id");
            if (it != item.end() && *it == id) {
                return item;
            }
        }
    }
    return std::nullopt;
}

bool ws_client::wait_open(asio::io_context& ioc, duration deadline) {
    return run_until(ioc, [this] { return open_; }, deadline);
}

bool ws_client::wait_closed(asio::io_context& ioc, duration deadline) {
    return run_until(ioc, [this] { return closed_; }, deadline);
}

bool ws_client::wait_settled(asio::io_context& ioc, duration deadline) {
    run_until(ioc, [this] { return open_ || failed_ || closed_; }, deadline);
    return open_;
}

bool ws_client::wait_received(asio::io_context& ioc, std::size_t count, duration deadline) {
    return run_until(ioc, [this, count] { return received_.size() >= count; }, deadline);
}

bool ws_client::wait_messages(asio::io_context& ioc, std::size_t count, duration deadline) {
    return run_until(ioc, [this, count] { return message_count() >= count; }, deadline);
}

std::optional<nlohmann::json> ws_client::wait_reply(asio::io_context& ioc, nlohmann::json const& id,
                                                    duration deadline) {
    run_until(ioc, [this, &id] { return find_reply(id).has_value(); }, deadline);
    return find_reply(id);
}

std::optional<nlohmann::json> ws_client::subscribe(asio::io_context& ioc, std::string const& topic,
                                                   nlohmann::json const& id, duration deadline) {
    return ask(ioc, {{"type", "subscribe"}, {"topic", topic}, {"id", id}}, deadline);
}

std::optional<nlohmann::json> ws_client::ask(asio::io_context& ioc, nlohmann::json const& command, duration deadline) {
    send_json(command);
    return wait_reply(ioc, command["id"], deadline);
}

}  // namespace switchboard::test
