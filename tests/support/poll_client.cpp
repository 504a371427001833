#include "support/poll_client.hpp"

#include "support/run_until.hpp"
#include "support/url.hpp"

namespace switchboard::test {

namespace {

// Above the server's default 25 s hold time, so a held poll is never mistaken for a failure.
constexpr auto poll_timeout = std::chrono::seconds(60);

}  // namespace

std::shared_ptr<poll_client> poll_client::create(boost::asio::io_context& ioc) {
    return std::shared_ptr<poll_client>(new poll_client(ioc));
}

void poll_client::start(server_port port, std::vector<std::string> topics) {
    stop_requested_ = false;
    if (running_) {
        return;
    }
    running_ = true;
    port_ = port;
    topics_ = std::move(topics);
    do_poll();
}

void poll_client::stop() {
    stop_requested_ = true;
}

void poll_client::do_poll() {
    query_params params;
    for (auto const& topic : topics_) {
        params.emplace_back("topic", topic);
    }
    if (!cursor_.empty()) {
        params.emplace_back("cursor", cursor_);
    }
    ++requests_;
    request(ioc_, port_, "GET", make_target("/poll", params), {}, {},
            [self = shared_from_this()](http_result result) { self->on_poll(std::move(result)); }, poll_timeout);
}

void poll_client::on_poll(http_result result) {
    bool ok = result.status == 200;
    if (ok) {
        auto body = result.json();
        ok = body.is_object() && body.contains("messages") && body["messages"].is_array() &&
             body.contains("cursor") && body["cursor"].is_string();
        if (ok) {
            for (auto& message : body["messages"]) {
                messages_.push_back(std::move(message));
            }
            cursor_ = body["cursor"].get<std::string>();
            ++responses_;
        }
    }
    if (!ok) {
        errors_.push_back(std::move(result));
    }
    if (!ok || stop_requested_) {
        running_ = false;
        stop_requested_ = false;
        return;
    }
    do_poll();
}

bool poll_client::wait_messages(boost::asio::io_context& ioc, std::size_t count, duration deadline) {
    return run_until(ioc, [this, count] { return messages_.size() >= count; }, deadline);
}

bool poll_client::wait_requests(boost::asio::io_context& ioc, std::size_t count, duration deadline) {
    return run_until(ioc, [this, count] { return requests_ >= count; }, deadline);
}

bool poll_client::wait_stopped(boost::asio::io_context& ioc, duration deadline) {
    return run_until(ioc, [this] { return !running_; }, deadline);
}

}  // namespace switchboard::test
