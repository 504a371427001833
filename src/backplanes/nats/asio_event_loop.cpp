#include "backplanes/nats/asio_event_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>

namespace switchboard::nats {

namespace asio = boost::asio;

namespace {

// One connection's socket as the loop sees it. cnats' userData is a heap shared_ptr to it, deleted at detach;
// waits in flight hold their own reference and find the watch stopped.
//
// Asio watches its own duplicate of cnats' descriptor. cnats closes its descriptor from any thread (on an error,
// a reconnect, a close) and may get the same number back for the next socket at once; a descriptor Asio does
// not own could then be deregistered or watched under the wrong socket. With a duplicate, Asio's registration
// and cnats' number never mix; ours is closed on the loop when cnats stops polling or detaches.
class socket_watch : public std::enable_shared_from_this<socket_watch> {
public:
    socket_watch(asio::any_io_executor ex, natsConnection* nc) : ex_(ex), nc_(nc) {}

    // ---- cnats' side: any thread, under the connection's lock ----

    natsStatus attach(natsSock socket)
    {
        int const own = ::fcntl(socket, F_DUPFD_CLOEXEC, 0);
        if (own < 0)
            return NATS_SYS_ERROR;
        read_wanted_ = true;  // cnats polls reads from attach on; it asks for writes when it has bytes
        auto const generation = ++attached_;
        run([self = shared_from_this(), own, generation] { self->install(own, generation); });
        return NATS_OK;
    }

    natsStatus want(bool reading, bool add)
    {
        (reading ? read_wanted_ : write_wanted_) = add;
        run([self = shared_from_this()] { self->sync(); });
        return NATS_OK;
    }

    natsStatus detach()
    {
        detached_ = true;
        read_wanted_ = write_wanted_ = false;
        run([self = shared_from_this()] { self->sync(); });
        return NATS_OK;
    }

private:
    /// On the loop now if we are on it, else posted. Both paths apply state read when they run.
    template <class F>
    void run(F&& f)
    {
        if (on_loop())
            f();
        else
            asio::post(ex_, std::forward<F>(f));
    }

    /// True on the thread running the loop (an io_context's executor knows it; any other: post, always safe).
    bool on_loop() const
    {
        auto const* e = ex_.target<asio::io_context::executor_type>();
        return e && e->running_in_this_thread();
    }

    // ---- the loop's side ----

    void install(int own, std::uint64_t generation)
    {
        if (detached_ || generation != attached_) {
            ::close(own);  // a later attach or the detach overtook this one
            return;
        }
        descriptor_.reset();  // the previous socket's waits end with operation_aborted
        descriptor_.emplace(ex_, own);
        ++installed_;
        read_armed_ = write_armed_ = false;
        sync();
    }

    void sync()
    {
        if (!descriptor_)
            return;
        bool const reading = read_wanted_, writing = write_wanted_;
        if (detached_ || (!reading && !writing)) {
            // cnats stopped polling: it closes its descriptor (an error, a reconnect, a close); ours goes too,
            // so the socket is released now and the next attach starts clean.
            descriptor_.reset();
            return;
        }
        if (reading)
            arm(true);
        if (writing)
            arm(false);
    }

    // Asio's async_wait re-arms the descriptor in epoll each time (EPOLL_CTL_MOD), so bytes left unread by
    // cnats (it reads at most one buffer per event) or a socket that is already writable complete the next
    // wait at once, although Asio's epoll is edge-triggered.
    void arm(bool reading)
    {
        bool& armed = reading ? read_armed_ : write_armed_;
        if (armed)
            return;
        armed = true;
        auto const what = reading ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write;
        descriptor_->async_wait(what, [self = shared_from_this(), reading, generation = installed_](
                                          boost::system::error_code ec) { self->on_ready(reading, generation, ec); });
    }

    void on_ready(bool reading, std::uint64_t generation, boost::system::error_code ec)
    {
        if (generation != installed_)
            return;  // a wait on a socket that has been replaced
        (reading ? read_armed_ : write_armed_) = false;
        if (ec || detached_ || !descriptor_ || !(reading ? read_wanted_ : write_wanted_))
            return;
        // cnats may call back into want() from here (on this thread): a REMOVE on an error, or after a full write.
        if (reading)
            natsConnection_ProcessReadEvent(nc_);
        else
            natsConnection_ProcessWriteEvent(nc_);
        if (generation == installed_ && descriptor_ && !detached_ && (reading ? read_wanted_ : write_wanted_))
            arm(reading);
    }

    asio::any_io_executor ex_;
    natsConnection* nc_;

    // Written by cnats' threads, read on the loop.
    std::atomic<bool> read_wanted_{false};
    std::atomic<bool> write_wanted_{false};
    std::atomic<bool> detached_{false};
    std::atomic<std::uint64_t> attached_{0};

    // Loop thread only.
    std::optional<asio::posix::stream_descriptor> descriptor_;
    std::uint64_t installed_ = 0;
    bool read_armed_ = false;
    bool write_armed_ = false;
};

using watch_ref = std::shared_ptr<socket_watch>;

socket_watch& watch_of(void* user_data)
{
    return **static_cast<watch_ref*>(user_data);
}

natsStatus on_attach(void** user_data, void* loop, natsConnection* nc, natsSock socket)
{
    if (*user_data == nullptr) {
        auto* self = static_cast<asio_event_loop*>(loop);
        *user_data = new watch_ref(std::make_shared<socket_watch>(self->executor(), nc));
    }
    return watch_of(*user_data).attach(socket);
}

natsStatus on_read(void* user_data, bool add)
{
    return watch_of(user_data).want(true, add);
}

natsStatus on_write(void* user_data, bool add)
{
    return watch_of(user_data).want(false, add);
}

natsStatus on_detach(void* user_data)
{
    std::unique_ptr<watch_ref> ref(static_cast<watch_ref*>(user_data));
    return (*ref)->detach();
}

}  // namespace

natsStatus asio_event_loop::install(natsOptions* opts)
{
    return natsOptions_SetEventLoop(opts, this, &on_attach, &on_read, &on_write, &on_detach);
}

}  // namespace switchboard::nats
