#include "backplanes/redis/redis_link.hpp"

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace switchboard::redis {

namespace asio = boost::asio;

redis_link::redis_link(asio::any_io_executor ex, char const* role, redis_address const& address,
                       redis_options const& options, std::mt19937_64& random)
    : role_(role), address_(address), options_(options), random_(random), resolver_(ex), conn_(ex), retry_(ex)
{
}

void redis_link::start(std::function<void()> on_connected, std::function<void()> on_lost)
{
    on_connected_ = std::move(on_connected);
    on_lost_ = std::move(on_lost);
    connect();
}

void redis_link::connect()
{
    if (closed_)
        return;
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address_.host, ec);
    if (!ec)
        return open(ip.to_string());
    resolver_.async_resolve(address_.host, std::to_string(address_.port),
                            [this](boost::system::error_code rec, asio::ip::tcp::resolver::results_type results) {
                                if (closed_)
                                    return;
                                if (rec || results.empty()) {
                                    spdlog::warn("redis: cannot resolve {}: {}", address_.host, rec.message());
                                    return retry_later();
                                }
                                open(results.begin()->endpoint().address().to_string());
                            });
}

void redis_link::open(std::string const& ip)
{
    conn_.connect(
        ip, address_.port, options_.connect_timeout,
        [this](boost::system::error_code ec) {
            if (closed_)
                return;
            if (ec) {
                spdlog::warn("redis: cannot connect to {}:{} ({})", address_.host, address_.port, ec.message());
                return retry_later();
            }
            on_connected_();
        },
        [this] { lost(); });
}

void redis_link::ready()
{
    ready_ = true;
    backoff_ = std::chrono::milliseconds(0);
    spdlog::info("redis: {} connection to {}:{} ready", role_, address_.host, address_.port);
}

void redis_link::lost()
{
    if (closed_)
        return;
    spdlog::warn("redis: {} connection lost; reconnecting", role_);
    ready_ = false;
    on_lost_();
    retry_later();
}

void redis_link::retry_later()
{
    ready_ = false;
    conn_.close();
    backoff_ = backoff_.count() == 0 ? options_.reconnect_min : std::min(backoff_ * 2, options_.reconnect_max);
    // Jitter, so that nodes that lost Redis together do not come back in step.
    auto const jitter = std::uniform_int_distribution<std::int64_t>(0, backoff_.count() / 2)(random_);
    retry_.expires_after(backoff_ + std::chrono::milliseconds(jitter));
    retry_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !closed_)
            connect();
    });
}

void redis_link::close()
{
    closed_ = true;
    ready_ = false;
    resolver_.cancel();
    retry_.cancel();
    conn_.close();
}

}  // namespace switchboard::redis
