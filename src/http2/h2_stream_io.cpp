#include "http2/h2_stream_io.hpp"

#include "http2/h2_connection.hpp"
#include "http2/h2_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <nghttp2/nghttp2.h>

#include <array>
#include <cstring>
#include <utility>

namespace switchboard::detail {

h2_stream_io::h2_stream_io(boost::asio::any_io_executor ex, std::weak_ptr<h2_connection> conn, h2_stream* stream,
                           io_owner& owner)
    : ex_(std::move(ex)), conn_(std::move(conn)), stream_(stream), owner_(owner)
{
    if (stream_)
        stream_->attach(this);
}

h2_stream_io::~h2_stream_io()
{
    if (stream_)
        stream_->detach(this);
}

bool h2_stream_io::send_head(http_response const& head)
{
    if (head_sent_)
        return true;
    head_sent_ = true;
    auto conn = conn_.lock();
    if (!stream_ || !conn) {
        if (!reset_)
            report_lost(NGHTTP2_CANCEL);  // closed before the channel began
        return true;
    }
    stream_->keep(owner_.keep());  // the stream holds its channel while it is open
    conn->submit_response(*stream_, head, /*streaming=*/true);
    return true;
}

void h2_stream_io::flush()
{
    if (!stream_ || !head_sent_ || reset_)
        return;
    if (auto conn = conn_.lock())
        conn->resume_data(stream_->id());
}

void h2_stream_io::shut_down()
{
    ending_ = true;
    flush();
}

void h2_stream_io::close() noexcept
{
    if (!stream_ || reset_)
        return;
    reset_ = true;
    if (auto conn = conn_.lock())
        conn->reset_stream(stream_->id(), NGHTTP2_CANCEL);
}

ssize_t h2_stream_io::read(std::uint8_t* out, std::size_t length, std::uint32_t* flags)
{
    auto& queue = owner_.outbox();
    if (queue.empty()) {
        if (ending_) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        return NGHTTP2_ERR_DEFERRED;
    }
    // nghttp2 asks for at most a frame's payload (16 KiB by default), within both windows.
    std::array<iovec, 64> iov;
    auto const blocks = queue.gather(iov.data(), iov.size());
    std::size_t n = 0;
    for (std::size_t i = 0; i < blocks && n < length; ++i) {
        auto const take = std::min(length - n, iov[i].iov_len);
        std::memcpy(out + n, iov[i].iov_base, take);
        n += take;
    }
    queue.consume(n);
    owner_.sent(n);
    return static_cast<ssize_t>(n);
}

void h2_stream_io::after_send()
{
    if (!stream_)
        return;
    owner_.made_room();
    if (stream_ && owner_.outbox().empty())
        owner_.drained();
}

void h2_stream_io::start_reading()
{
    reading_ = true;
    schedule_input();
}

void h2_stream_io::received(std::string_view bytes)
{
    input_.append(bytes);
    schedule_input();
}

void h2_stream_io::peer_ended()
{
    peer_ended_ = true;
    schedule_input();
}

void h2_stream_io::schedule_input()
{
    if (!reading_ || input_posted_ || (input_.empty() && (!peer_ended_ || end_reported_)))
        return;
    input_posted_ = true;
    // Ahead of the connection's next read (posted before it waits again): input_ holds at most one read.
    boost::asio::post(ex_, [keep = owner_.keep(), this] { deliver_input(); });
}

void h2_stream_io::deliver_input()
{
    input_posted_ = false;
    auto const bytes = std::exchange(input_, {});
    if (!bytes.empty())
        owner_.received(bytes);
    if (peer_ended_ && !end_reported_) {
        end_reported_ = true;
        owner_.lost(boost::asio::error::eof);
    }
}

void h2_stream_io::stream_closed(std::uint32_t code)
{
    stream_ = nullptr;
    reset_ = true;
    report_lost(code);
}

void h2_stream_io::report_lost(std::uint32_t code)
{
    reset_ = true;
    // A client that resets the stream (an EventSource closed: CANCEL) or ends it left; anything else failed.
    auto const ec = code == NGHTTP2_NO_ERROR || code == NGHTTP2_CANCEL
                        ? boost::system::error_code(boost::asio::error::eof)
                        : boost::system::error_code(boost::asio::error::connection_reset);
    // Posted: this may run inside nghttp2's callbacks, and lost() runs the channel's whole close path.
    boost::asio::post(ex_, [keep = owner_.keep(), &owner = owner_, ec] { owner.lost(ec); });
}

}  // namespace switchboard::detail
