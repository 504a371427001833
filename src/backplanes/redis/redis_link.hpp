#pragma once
// One connection of the Redis backplane, kept open: resolves the host (at each connect), connects, and when a
// connect fails or an open connection is lost, tries again after a delay that doubles up to reconnect_max, with
// jitter so that nodes that lost Redis together do not come back in step. What the connection is for (AUTH,
// SELECT, loading scripts, subscribing) is its owner's: on_connected sets it up, then calls ready(), or
// retry_later() when Redis refuses.
//
// Thread-safety: loop thread only.

#include <switchboard/redis_backplane.hpp>

#include "backplanes/redis/redis_connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <random>
#include <string>

namespace switchboard::redis {

class redis_link {
public:
    /// `role` names the connection in logs ("command", "pub/sub"). `address`, `options` and `random` must
    /// outlive the link.
    redis_link(boost::asio::any_io_executor ex, char const* role, redis_address const& address,
               redis_options const& options, std::mt19937_64& random);

    /// Connects, and reconnects until close(). `on_connected`: open, to be set up. `on_lost`: an open
    /// connection ended (it reconnects by itself afterwards).
    void start(std::function<void()> on_connected, std::function<void()> on_lost);
    /// Set up: usable until the next on_lost.
    void ready();
    /// Drops the connection (if any) and connects again after the next delay.
    void retry_later();
    /// Drops the connection for good.
    void close();

    bool is_ready() const noexcept { return ready_; }
    redis_connection& connection() noexcept { return conn_; }
    char const* role() const noexcept { return role_; }

private:
    void connect();
    void open(std::string const& ip);
    void lost();

    char const* role_;
    redis_address const& address_;
    redis_options const& options_;
    std::mt19937_64& random_;
    boost::asio::ip::tcp::resolver resolver_;
    redis_connection conn_;
    boost::asio::steady_timer retry_;
    std::chrono::milliseconds backoff_{0};
    std::function<void()> on_connected_;
    std::function<void()> on_lost_;
    bool ready_ = false;  // open and set up
    bool closed_ = false;
};

}  // namespace switchboard::redis
