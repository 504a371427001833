#pragma once
// One connection to Redis through hiredis' asynchronous API, driven by the server's Asio loop: hiredis asks to
// watch the socket for reading or writing and the loop tells it when it may, so there is no extra thread and no
// blocking call (the address must be numeric: names are resolved with Asio before connect()).
//
// Thread-safety: loop thread only. Handlers run on the loop thread, never inside the call that queued them
// (close() excepted: it runs the pending ones, with null, before it returns).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace switchboard::redis {

class redis_connection {
public:
    /// Gets the reply, or null when the connection failed or closed before it came.
    using reply_handler = std::function<void(redisReply const*)>;

    explicit redis_connection(boost::asio::any_io_executor ex);
    ~redis_connection();
    redis_connection(redis_connection const&) = delete;
    redis_connection& operator=(redis_connection const&) = delete;

    /// Connects to `ip`:`port`. `on_open` gets an empty error once connected, or why it could not connect
    /// (within `timeout`). Once open, `on_lost` is called when the connection ends other than by close().
    void connect(std::string const& ip, unsigned short port, std::chrono::milliseconds timeout,
                 std::function<void(boost::system::error_code)> on_open, std::function<void()> on_lost);

    /// Queues a command. False (and `done` is not called) when the connection is not open.
    bool command(std::vector<std::string> const& args, reply_handler done);

    /// Pub/sub: every reply to SUBSCRIBE/UNSUBSCRIBE and every message of the connection's channels goes to
    /// this one handler (with null when the connection ends).
    void on_push(reply_handler h) { push_ = std::move(h); }
    /// Queues SUBSCRIBE or UNSUBSCRIBE for `channels`; replies reach the push handler.
    bool subscription(char const* verb, std::vector<std::string> const& channels);

    bool open() const noexcept { return open_; }
    /// Commands sent whose reply has not come yet, and when the oldest of them was sent.
    std::size_t pending() const noexcept { return sent_at_.size(); }
    std::chrono::steady_clock::time_point oldest_pending() const { return sent_at_.front(); }

    /// Drops the connection now; pending handlers get null. on_lost is not called. Safe at any time.
    void close();

private:
    static void on_connect_c(redisAsyncContext const* ac, int status);
    static void on_disconnect_c(redisAsyncContext const* ac, int status);
    static void on_reply_c(redisAsyncContext* ac, void* reply, void* privdata);
    static void on_push_c(redisAsyncContext* ac, void* reply, void* privdata);

    void lost();

    boost::asio::any_io_executor executor_;
    boost::asio::steady_timer connect_timer_;
    redisAsyncContext* context_ = nullptr;
    std::function<void(boost::system::error_code)> on_open_;
    std::function<void()> on_lost_;
    reply_handler push_;
    std::deque<std::chrono::steady_clock::time_point> sent_at_;  // replies come in the order commands went
    bool open_ = false;
    bool closing_ = false;
    bool destroying_ = false;
};

}  // namespace switchboard::redis
