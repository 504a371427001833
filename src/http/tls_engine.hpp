#pragma once
// One TLS connection's OpenSSL state, driven step by step by tls_stream: an SSL object whose BIO is the socket
// itself. Reads serve first the bytes read before the handshake (the TLS sniff), then what the stream's last wait
// read, then recv() on the descriptor; writes go to send() at once, and only what the socket does not take is kept
// (until the stream's write op sends it). Nothing is buffered here while a connection is idle: with
// SSL_MODE_RELEASE_BUFFERS on the context, OpenSSL gives its record buffers back too, and what an idle connection
// holds is the SSL object and its session. Not thread-safe (one loop thread); movable (the BIO follows the move).

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;

namespace switchboard::detail {

class tls_engine {
public:
    /// What a step needs next: nothing (it is done), input (wait until the socket is readable), or it failed.
    enum class step { done, want_read, failed };

    /// A server-side TLS connection over descriptor `fd`; `prefix` is what was read from it already. Throws
    /// std::bad_alloc when OpenSSL cannot allocate.
    tls_engine(SSL_CTX* context, int fd, std::string_view prefix);
    tls_engine(tls_engine&& other) noexcept;
    tls_engine& operator=(tls_engine&&) = delete;
    ~tls_engine();

    step handshake(boost::system::error_code& ec);
    /// Application data: `n` bytes read. A peer's close_notify is eof; its TCP end without one is
    /// ssl::error::stream_truncated.
    step read(boost::asio::mutable_buffer to, std::size_t& n, boost::system::error_code& ec);
    /// At most one record (partial writes): `n` bytes of `from` taken. The record is sent or kept for flushing.
    step write(boost::asio::const_buffer from, std::size_t& n, boost::system::error_code& ec);
    /// Whether close_notify may be sent: the handshake is over and no fatal error happened.
    bool can_close() const noexcept;
    /// Sends close_notify (done also when the connection is already broken: nothing more to say).
    step shutdown(boost::system::error_code& ec);

    /// Ciphertext the socket has not taken yet.
    bool output_waiting() const noexcept { return !pending_.empty(); }
    /// Moves the waiting output into the flight a writer sends; valid until output_sent().
    boost::asio::const_buffer start_output();
    void output_sent() noexcept;

    /// Where a wait through a stream with deadlines (tcp_stream) reads: a record header's worth, served next.
    boost::asio::mutable_buffer head_room() noexcept { return {head_, sizeof head_}; }
    void got_head(std::size_t n) noexcept
    {
        head_at_ = 0;
        head_size_ = static_cast<unsigned char>(n);
    }
    /// The wait saw the peer's end of the stream.
    void saw_eof() noexcept { eof_ = true; }

    SSL* native_handle() const noexcept { return ssl_; }

private:
    static int bio_read(BIO* bio, char* data, int size);
    static int bio_write(BIO* bio, char const* data, int size);
    static long bio_ctrl(BIO* bio, int cmd, long num, void* ptr);
    static BIO_METHOD* method();

    step result(int ok, boost::system::error_code& ec);
    int read_input(char* data, std::size_t size);
    int write_output(char const* data, std::size_t size);
    void try_send_pending();

    SSL* ssl_ = nullptr;
    int fd_ = -1;
    std::string prefix_;       // read by the sniff, not yet taken by OpenSSL; freed once taken
    std::size_t prefix_at_ = 0;
    std::string pending_;      // output the socket did not take, not yet in flight
    std::string flight_;       // output a writer is sending
    int errno_ = 0;            // the socket's last error
    char head_[5];
    unsigned char head_at_ = 0, head_size_ = 0;
    bool eof_ = false;
    bool cork_ = false;        // during the handshake: one send for a whole flight of records
    bool broken_ = false;      // a fatal error: no close_notify may follow
};

}  // namespace switchboard::detail
