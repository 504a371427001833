#include "http/tls_engine.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <new>
#include <utility>

namespace switchboard::detail {
namespace {

// Output kept for the socket at most: a record in flight and what the peer's messages make us answer meanwhile
// (alerts, key updates). A peer that asks for more while it does not read is cut off, not buffered for.
constexpr std::size_t max_pending_output = 64 * 1024;

tls_engine* engine_of(BIO* bio) { return static_cast<tls_engine*>(BIO_get_data(bio)); }

}  // namespace

BIO_METHOD* tls_engine::method()
{
    // One method for every connection, made once (on the loop thread, before any connection needs it) and kept.
    static BIO_METHOD* const m = [] {
        BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "switchboard socket");
        if (!made)
            throw std::bad_alloc();
        BIO_meth_set_read(made, &tls_engine::bio_read);
        BIO_meth_set_write(made, &tls_engine::bio_write);
        BIO_meth_set_ctrl(made, &tls_engine::bio_ctrl);
        BIO_meth_set_create(made, [](BIO* b) {
            BIO_set_init(b, 1);
            return 1;
        });
        return made;
    }();
    return m;
}

tls_engine::tls_engine(SSL_CTX* context, int fd, std::string_view prefix) : fd_(fd), prefix_(prefix)
{
    ssl_ = SSL_new(context);
    if (!ssl_)
        throw std::bad_alloc();
    BIO* bio = BIO_new(method());
    if (!bio) {
        SSL_free(ssl_);
        throw std::bad_alloc();
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO (one reference for both directions)
    SSL_set_accept_state(ssl_);
}

tls_engine::tls_engine(tls_engine&& other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)),
      fd_(other.fd_),
      prefix_(std::move(other.prefix_)),
      prefix_at_(other.prefix_at_),
      pending_(std::move(other.pending_)),
      flight_(std::move(other.flight_)),
      errno_(other.errno_),
      head_at_(other.head_at_),
      head_size_(other.head_size_),
      eof_(other.eof_),
      cork_(other.cork_),
      broken_(other.broken_)
{
    std::memcpy(head_, other.head_, sizeof head_);
    if (ssl_)
        BIO_set_data(SSL_get_rbio(ssl_), this);
}

tls_engine::~tls_engine()
{
    if (ssl_)
        SSL_free(ssl_);
}

tls_engine::step tls_engine::handshake(boost::system::error_code& ec)
{
    // A flight of handshake records (ServerHello to Finished, then the tickets) leaves in one send: record by
    // record, Nagle would hold the second one back for the client's delayed ACK.
    cork_ = true;
    ERR_clear_error();
    int const r = SSL_do_handshake(ssl_);
    cork_ = false;
    try_send_pending();
    return result(r, ec);
}

tls_engine::step tls_engine::read(boost::asio::mutable_buffer to, std::size_t& n, boost::system::error_code& ec)
{
    n = 0;
    ERR_clear_error();
    int const r = SSL_read_ex(ssl_, to.data(), to.size(), &n);
    return result(r, ec);
}

tls_engine::step tls_engine::write(boost::asio::const_buffer from, std::size_t& n, boost::system::error_code& ec)
{
    n = 0;
    ERR_clear_error();
    int const r = SSL_write_ex(ssl_, from.data(), from.size(), &n);
    return result(r, ec);
}

bool tls_engine::can_close() const noexcept
{
    return !broken_ && SSL_is_init_finished(ssl_);
}

tls_engine::step tls_engine::shutdown(boost::system::error_code& ec)
{
    // After a fatal error OpenSSL forbids close_notify (and the connection is lost anyway); before the handshake
    // is over there is no session to close.
    if (broken_ || !SSL_is_init_finished(ssl_))
        return step::done;
    cork_ = true;
    ERR_clear_error();
    int const r = SSL_shutdown(ssl_);
    cork_ = false;
    try_send_pending();
    return r >= 0 ? step::done : result(r, ec);
}

tls_engine::step tls_engine::result(int ok, boost::system::error_code& ec)
{
    if (ok > 0)
        return step::done;
    int const e = SSL_get_error(ssl_, ok);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        // An idle connection must not keep OpenSSL's record buffers (~17 KB each): SSL_MODE_RELEASE_BUFFERS gives
        // them back (OpenSSL 3.0.19 does so here too, measured), and this makes sure of it whatever the version.
        // A buffer holding part of a record stays (SSL_free_buffers declines).
        SSL_free_buffers(ssl_);
        return step::want_read;
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
        ec = boost::asio::error::eof;
        break;
    case SSL_ERROR_SYSCALL:
    case SSL_ERROR_SSL:
        broken_ = true;
        if (eof_)  // the peer's TCP end without close_notify (OpenSSL 3 reports it as an SSL error)
            ec = boost::asio::ssl::error::stream_truncated;
        else if (e == SSL_ERROR_SSL && ERR_peek_error() != 0)
            ec = {static_cast<int>(ERR_get_error()), boost::asio::error::get_ssl_category()};
        else
            ec = {errno_ ? errno_ : EIO, boost::system::system_category()};
        break;
    default:  // WANT_WRITE cannot happen (the BIO always takes output) nor any other wait
        broken_ = true;
        ec = boost::asio::error::operation_not_supported;
        break;
    }
    ERR_clear_error();
    return step::failed;
}

boost::asio::const_buffer tls_engine::start_output()
{
    flight_.swap(pending_);
    return boost::asio::buffer(flight_);
}

void tls_engine::output_sent() noexcept
{
    std::string().swap(flight_);  // an idle connection keeps nothing
}

int tls_engine::read_input(char* data, std::size_t size)
{
    if (prefix_at_ < prefix_.size()) {
        std::size_t const n = std::min(size, prefix_.size() - prefix_at_);
        std::memcpy(data, prefix_.data() + prefix_at_, n);
        prefix_at_ += n;
        if (prefix_at_ == prefix_.size()) {
            std::string().swap(prefix_);
            prefix_at_ = 0;
        }
        return static_cast<int>(n);
    }
    if (head_at_ < head_size_) {
        std::size_t const n = std::min<std::size_t>(size, head_size_ - head_at_);
        std::memcpy(data, head_ + head_at_, n);
        head_at_ = static_cast<unsigned char>(head_at_ + n);
        return static_cast<int>(n);
    }
    if (eof_)
        return 0;
    ssize_t const n = ::recv(fd_, data, size, MSG_DONTWAIT);
    if (n > 0)
        return static_cast<int>(n);
    if (n == 0) {
        eof_ = true;
        return 0;
    }
    errno_ = errno;
    return -1;
}

int tls_engine::write_output(char const* data, std::size_t size)
{
    // Behind output not yet sent (or while corked) the bytes queue; otherwise they go to the socket now and only
    // what it does not take is kept.
    std::size_t sent = 0;
    if (pending_.empty() && flight_.empty() && !cork_) {
        ssize_t const n = ::send(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            errno_ = errno;
            return -1;
        }
        sent = n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    if (sent < size) {
        if (pending_.size() + (size - sent) > max_pending_output) {
            errno_ = ENOBUFS;
            return -1;
        }
        pending_.append(data + sent, size - sent);
    }
    return static_cast<int>(size);
}

void tls_engine::try_send_pending()
{
    if (pending_.empty() || !flight_.empty())
        return;
    ssize_t const n = ::send(fd_, pending_.data(), pending_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0)
        return;  // would block (the writer sends it), or an error the writer's send will meet
    pending_.erase(0, static_cast<std::size_t>(n));
    if (pending_.empty())
        std::string().swap(pending_);
}

int tls_engine::bio_read(BIO* bio, char* data, int size)
{
    BIO_clear_retry_flags(bio);
    if (size <= 0)
        return 0;
    int const n = engine_of(bio)->read_input(data, static_cast<std::size_t>(size));
    if (n < 0 && (engine_of(bio)->errno_ == EAGAIN || engine_of(bio)->errno_ == EWOULDBLOCK ||
                  engine_of(bio)->errno_ == EINTR)) {
        engine_of(bio)->errno_ = 0;
        BIO_set_retry_read(bio);
    }
    return n;
}

int tls_engine::bio_write(BIO* bio, char const* data, int size)
{
    BIO_clear_retry_flags(bio);
    if (size <= 0)
        return 0;
    return engine_of(bio)->write_output(data, static_cast<std::size_t>(size));
}

long tls_engine::bio_ctrl(BIO*, int cmd, long, void*)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:  // output leaves as it is written, or waits for the stream's writer
        return 1;
    default:
        return 0;
    }
}

}  // namespace switchboard::detail
