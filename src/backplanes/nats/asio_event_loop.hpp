#pragma once
// cnats' external event loop (natsOptions_SetEventLoop) answered by an Asio executor: Asio watches the
// connection's socket with async_wait and cnats reads and writes it from the loop thread
// (natsConnection_ProcessReadEvent / ProcessWriteEvent), so a connection needs no reader thread and no
// flusher thread, and a publish never blocks the loop on the socket: cnats appends to its buffer and asks for
// a write event.
//
// Thread-safety: cnats calls the four callbacks from whichever thread it is on, always holding the
// connection's lock: the loop thread (inside ProcessRead/WriteEvent, or a close made there), a thread that
// publishes, cnats' timer thread (it sends PINGs), cnats' reconnect thread (it attaches the new socket after a
// blocking handshake). The callbacks never block and never call into cnats: on the loop thread they act at
// once; elsewhere they record what cnats wants in atomics and post the socket work to the loop, which applies
// the latest wish (so a posted "add write" cannot undo a later "remove write" made on the loop).
//
// Contract for the owner (nats_link):
//   - The executor's io_context is run by one thread.
//   - The connection is closed and destroyed on the loop thread (natsConnection_Destroy), so that no loop
//     handler can call cnats with a connection freed by another thread.
//   - The asio_event_loop outlives every connection made with the options it was installed into.
//   - Not for tls:// URLs: with an event loop, cnats' SSL_read that needs the rest of a TLS record waits for it
//     with poll() on the calling thread, which would be the loop (docs/architecture.md).

#include <boost/asio/any_io_executor.hpp>
#include <nats/nats.h>

namespace switchboard::nats {

class asio_event_loop {
public:
    explicit asio_event_loop(boost::asio::any_io_executor ex) noexcept : ex_(ex) {}
    asio_event_loop(asio_event_loop const&) = delete;
    asio_event_loop& operator=(asio_event_loop const&) = delete;

    /// Makes connections created from `opts` use this loop.
    natsStatus install(natsOptions* opts);

    boost::asio::any_io_executor const& executor() const noexcept { return ex_; }

private:
    boost::asio::any_io_executor ex_;
};

}  // namespace switchboard::nats
