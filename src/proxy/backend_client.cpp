#include "proxy/backend_client.hpp"

#include <switchboard/error.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <optional>

namespace switchboard::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One POST, from taking a connection to its answer. Owns the connection while it runs; hands it back to the
// client's idle connections when the answer allows reuse.
class backend_request : public std::enable_shared_from_this<backend_request> {
public:
    backend_request(std::shared_ptr<backend_client> client, backend_url const& url, std::string body,
                    std::chrono::milliseconds timeout, bool idempotent, backend_client::handler done)
        : client_(std::move(client)),
          key_(url.host + ":" + url.port),
          host_(url.host),
          port_(url.port),
          deadline_(std::chrono::steady_clock::now() + timeout),
          idempotent_(idempotent),
          resolver_(client_->ex_),
          resolve_deadline_(client_->ex_),
          done_(std::move(done))
    {
        request_.method(http::verb::post);
        request_.target(url.target);
        request_.version(11);
        request_.set(http::field::host, url.authority);
        request_.set(http::field::content_type, "application/json");
        request_.set(http::field::user_agent, "switchboard");
        request_.body() = std::move(body);
        request_.prepare_payload();
    }

    void start()
    {
        if (auto kept = client_->take_idle(key_)) {
            stream_ = std::move(kept);
            reused_ = true;
            return send();
        }
        connect();
    }

private:
    void connect()
    {
        reused_ = false;
        stream_ = std::make_unique<beast::tcp_stream>(client_->ex_);
        // The stream's expiry does not reach the resolver (a name the system resolves slowly): a timer does.
        resolve_deadline_.expires_at(deadline_);
        resolve_deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec)
                self->resolver_.cancel();
        });
        resolver_.async_resolve(host_, port_, [self = shared_from_this()](boost::system::error_code ec,
                                                                           tcp::resolver::results_type found) {
            self->resolve_deadline_.cancel();
            if (ec == asio::error::operation_aborted)
                return self->fail("timed out resolving " + self->host_);
            if (ec)
                return self->fail("cannot resolve " + self->host_ + ": " + ec.message());
            self->stream_->expires_at(self->deadline_);
            self->stream_->async_connect(found, [self](boost::system::error_code ec, tcp::endpoint const&) {
                if (ec)
                    return self->fail("cannot connect to " + self->key_ + ": " + self->describe(ec));
                self->send();
            });
        });
    }

    void send()
    {
        stream_->expires_at(deadline_);
        http::async_write(*stream_, request_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec)
                return self->retry_or_fail("cannot send to " + self->key_ + ": " + self->describe(ec), ec);
            self->read();
        });
    }

    void read()
    {
        parser_.emplace();
        parser_->body_limit(backend_client::max_answer_bytes);
        parser_->header_limit(16 * 1024);
        http::async_read(*stream_, buffer_, *parser_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec)
                return self->retry_or_fail("no answer from " + self->key_ + ": " + self->describe(ec), ec);
            self->finish();
        });
    }

    void finish()
    {
        auto message = parser_->release();
        backend_client::answer a{message.result_int(), std::move(message.body())};
        if (message.keep_alive() && buffer_.size() == 0) {
            stream_->expires_never();
            client_->keep_idle(key_, std::move(stream_));
        }
        complete({}, std::move(a), {});
    }

    // A kept connection the backend closed before answering (its idle timeout raced our reuse): once more on a
    // new connection, when the request may be sent twice. A timeout is never retried: the deadline is spent.
    void retry_or_fail(std::string why, boost::system::error_code ec)
    {
        bool const nothing_came = !parser_ || !parser_->got_some();
        if (reused_ && idempotent_ && nothing_came && ec != beast::error::timeout &&
            std::chrono::steady_clock::now() < deadline_) {
            buffer_.clear();
            parser_.reset();
            return connect();
        }
        fail(std::move(why));
    }

    void fail(std::string why)
    {
        if (stream_) {
            boost::system::error_code ignored;
            stream_->socket().close(ignored);
        }
        complete(error::backend_unavailable, {}, why);
    }

    void complete(boost::system::error_code ec, backend_client::answer a, std::string const& why)
    {
        --client_->in_flight_;
        auto done = std::move(done_);
        done(ec, std::move(a), why);
    }

    static std::string describe(boost::system::error_code ec)
    {
        return ec == beast::error::timeout ? std::string("timed out") : ec.message();
    }

    std::shared_ptr<backend_client> client_;
    std::string key_;
    std::string host_;
    std::string port_;
    std::chrono::steady_clock::time_point deadline_;
    bool idempotent_;
    bool reused_ = false;
    tcp::resolver resolver_;
    asio::steady_timer resolve_deadline_;
    std::unique_ptr<beast::tcp_stream> stream_;
    http::request<http::string_body> request_;
    beast::flat_buffer buffer_{backend_client::max_answer_bytes + 16 * 1024};
    std::optional<http::response_parser<http::string_body>> parser_;
    backend_client::handler done_;
};

backend_client::backend_client(asio::any_io_executor ex, std::size_t max_in_flight, std::size_t max_idle)
    : ex_(std::move(ex)), max_in_flight_(max_in_flight), max_idle_(max_idle)
{
}

void backend_client::post(backend_url const& url, std::string body, std::chrono::milliseconds timeout,
                          bool idempotent, handler done)
{
    if (in_flight_ >= max_in_flight_) {
        return asio::post(ex_, [done = std::move(done), n = max_in_flight_] {
            done(error::backend_unavailable, {}, std::to_string(n) + " requests to the backend are waiting already");
        });
    }
    ++in_flight_;
    auto request = std::make_shared<backend_request>(shared_from_this(), url, std::move(body), timeout, idempotent,
                                                     std::move(done));
    // Never before post() returns: the caller's state is complete by the time the answer runs.
    asio::post(ex_, [request] { request->start(); });
}

std::unique_ptr<beast::tcp_stream> backend_client::take_idle(std::string const& key)
{
    while (true) {
        auto it = idle_.find(key);
        if (it == idle_.end())
            return nullptr;
        auto stream = std::move(it->second);
        idle_.erase(it);
        // A kept connection the backend has closed (or sent something unasked on) reads as ready: drop it here
        // rather than fail a request that may not be sent twice.
        char byte;
        auto const n = ::recv(stream->socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return stream;
    }
}

void backend_client::keep_idle(std::string const& key, std::unique_ptr<beast::tcp_stream> stream)
{
    if (idle_.size() >= max_idle_)
        return;  // closed as it goes
    idle_.emplace(key, std::move(stream));
}

}  // namespace switchboard::detail
