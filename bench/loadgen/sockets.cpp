// Opening, reading, writing and failing a connection; the connect storm's bounded concurrency.

#include "run.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace loadgen {

void run::open(connection& c)
{
    error_code ec;
    c.socket.open(tcp::v4(), ec);
    if (ec)
        return fail(c, "socket: " + ec.message());
    int one = 1;
    ::setsockopt(c.socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt_.sources > 1 || opt_.source_net != "127.0.0") {
        // Spread source addresses so no address runs out of ports or hits a per-address connection limit;
        // IP_BIND_ADDRESS_NO_PORT lets connect() choose the port per (source, destination).
        ::setsockopt(c.socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        auto const host = 1 + c.index % opt_.sources;
        c.socket.bind(tcp::endpoint(asio::ip::make_address_v4(opt_.source_net + "." + std::to_string(host)), 0), ec);
        if (ec)
            return fail(c, "bind: " + ec.message());
    }
    c.socket.non_blocking(true, ec);
    // Publishers may talk to another node than the subscribers (a backplane hop between the two).
    auto const port = c.kind != connection::role::subscriber && opt_.pub_port != 0 ? opt_.pub_port : opt_.port;
    c.socket.async_connect(tcp::endpoint(asio::ip::make_address(opt_.host), port),
        [this, &c](error_code ec) { on_connected(c, ec); });
}

void run::on_connected(connection& c, error_code ec)
{
    if (ec)
        return fail(c, "connect: " + ec.message());
    c.state = connection::phase::handshake;
    switch (c.kind) {
    case connection::role::subscriber: subscriber_handshake(c); break;
    case connection::role::ws_publisher: {
        std::string req = "GET " + expand(opt_.dialect == dialect_kind::switchboard ? "/ws" : opt_.sub_path, opt_.topic)
            + " HTTP/1.1\r\nHost: " + opt_.host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        send(c, req);
        break;
    }
    case connection::role::http_publisher: mark_ready(c); break;
    }
    start_reading(c);
}

void run::start_reading(connection& c)
{
    c.socket.async_wait(tcp::socket::wait_read, [this, &c](error_code ec) { on_readable(c, ec); });
}

void run::on_readable(connection& c, error_code ec)
{
    if (c.state == connection::phase::closed)
        return;
    if (ec)
        return fail(c, "wait: " + ec.message());
    auto& bytes = c.kind == connection::role::subscriber ? sub_bytes_ : pub_bytes_;
    // Drain the socket into the shared buffer (bounded, so one busy socket cannot starve the others).
    for (int round = 0; round < 8; ++round) {
        auto const n = ::recv(c.socket.native_handle(), buffer_.data(), buffer_.size(), 0);
        if (n > 0) {
            bytes.rx += static_cast<std::uint64_t>(n);
            on_input(c, buffer_.data(), static_cast<std::size_t>(n));
            if (c.state == connection::phase::closed)
                return;
            if (static_cast<std::size_t>(n) < buffer_.size())
                break;
            continue;
        }
        if (n == 0)
            return fail(c, "closed by the server");
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        if (errno == EINTR)
            continue;
        return fail(c, std::string("recv: ") + std::strerror(errno));
    }
    start_reading(c);
}

void run::send(connection& c, std::string_view bytes)
{
    auto& counter = c.kind == connection::role::subscriber ? sub_bytes_ : pub_bytes_;
    counter.tx += bytes.size();
    if (!c.out.empty()) {
        c.out.append(bytes);
        return;
    }
    auto const n = ::send(c.socket.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(bytes.size()))
        return;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return fail(c, std::string("send: ") + std::strerror(errno));
    c.out.assign(bytes.substr(n > 0 ? static_cast<std::size_t>(n) : 0));
    flush(c);
}

void run::flush(connection& c)
{
    if (c.write_waiting || c.out.empty())
        return;
    c.write_waiting = true;
    c.socket.async_wait(tcp::socket::wait_write, [this, &c](error_code ec) {
        c.write_waiting = false;
        if (ec || c.state == connection::phase::closed)
            return;
        auto const n = ::send(c.socket.native_handle(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(c, std::string("send: ") + std::strerror(errno));
        if (n > 0)
            c.out.erase(0, static_cast<std::size_t>(n));
        flush(c);
    });
}

void run::fail(connection& c, std::string_view why)
{
    if (c.state == connection::phase::closed)
        return;
    bool const was_ready = c.state == connection::phase::ready;
    c.state = connection::phase::closed;
    error_code ignored;
    c.socket.close(ignored);
    if (errors_.size() < 20)
        errors_.push_back(std::string(c.kind == connection::role::subscriber ? "subscriber " : "publisher ")
            + std::to_string(c.index) + ": " + std::string(why));
    ++failed_;
    if (c.kind == connection::role::subscriber && !was_ready) {
        --opening_;
        connect_more();
    }
}

void run::mark_ready(connection& c)
{
    if (c.state == connection::phase::ready || c.state == connection::phase::closed)
        return;
    c.state = connection::phase::ready;
    if (c.kind != connection::role::subscriber) {
        ++pubs_ready_;
        return;
    }
    ++subs_ready_;
    --opening_;
    all_ready_ns_ = now_ns();
    connect_more();
}

void run::connect_more()
{
    while (opening_ < opt_.connect_concurrency && next_to_open_ < subs_.size()) {
        ++opening_;
        open(*subs_[next_to_open_++]);
    }
}

}  // namespace loadgen
