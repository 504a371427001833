#include "backplanes/redis/redis_connection.hpp"

#include <switchboard/error.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

namespace switchboard::redis {

namespace asio = boost::asio;

// hiredis' event hooks, answered with Asio waits on the socket. hiredis owns the descriptor (it closes it), so
// it is released, never closed, here. The watch outlives the context: waits in flight hold it, and find the
// context gone (null) when hiredis has freed it meanwhile.
class socket_watch : public std::enable_shared_from_this<socket_watch> {
public:
    socket_watch(asio::any_io_executor ex, redisAsyncContext* ac) : descriptor_(ex, ac->c.fd), context_(ac) {}

    /// hiredis holds a reference until its cleanup hook: the context may be freed inside one of its calls.
    static void attach(redisAsyncContext* ac, asio::any_io_executor ex)
    {
        ac->ev.data = new std::shared_ptr<socket_watch>(std::make_shared<socket_watch>(ex, ac));
        ac->ev.addRead = [](void* p) { watch(p).want(true); };
        ac->ev.delRead = [](void* p) { watch(p).reading_wanted_ = false; };
        ac->ev.addWrite = [](void* p) { watch(p).want(false); };
        ac->ev.delWrite = [](void* p) { watch(p).writing_wanted_ = false; };
        ac->ev.cleanup = [](void* p) {
            std::unique_ptr<std::shared_ptr<socket_watch>> ref(static_cast<std::shared_ptr<socket_watch>*>(p));
            (*ref)->detach();
        };
    }

private:
    static socket_watch& watch(void* p) { return **static_cast<std::shared_ptr<socket_watch>*>(p); }

    void detach()
    {
        context_ = nullptr;
        reading_wanted_ = writing_wanted_ = false;
        descriptor_.release();  // cancels the waits; hiredis closes the descriptor itself
    }

    void want(bool reading)
    {
        (reading ? reading_wanted_ : writing_wanted_) = true;
        arm(reading);
    }

    void arm(bool reading)
    {
        bool& armed = reading ? read_armed_ : write_armed_;
        if (armed || !context_)
            return;
        armed = true;
        auto const what = reading ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write;
        descriptor_.async_wait(what, [self = shared_from_this(), reading](boost::system::error_code ec) {
            (reading ? self->read_armed_ : self->write_armed_) = false;
            if (ec || !self->context_ || !self->wanted(reading))
                return;
            if (reading)
                redisAsyncHandleRead(self->context_);
            else
                redisAsyncHandleWrite(self->context_);
            // The context may be gone now (a disconnect inside the handler).
            if (self->context_ && self->wanted(reading))
                self->arm(reading);
        });
    }

    bool wanted(bool reading) const noexcept { return reading ? reading_wanted_ : writing_wanted_; }

    asio::posix::stream_descriptor descriptor_;
    redisAsyncContext* context_;
    bool reading_wanted_ = false;
    bool writing_wanted_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
};

redis_connection::redis_connection(asio::any_io_executor ex) : executor_(ex), connect_timer_(ex) {}

redis_connection::~redis_connection()
{
    // Pending handlers belong to an owner that is going away too: they must not run.
    destroying_ = true;
    close();
}

void redis_connection::connect(std::string const& ip, unsigned short port, std::chrono::milliseconds timeout,
                               std::function<void(boost::system::error_code)> on_open, std::function<void()> on_lost)
{
    close();
    closing_ = false;
    on_open_ = std::move(on_open);
    on_lost_ = std::move(on_lost);
    context_ = redisAsyncConnect(ip.c_str(), port);
    if (!context_ || context_->err) {
        spdlog::debug("redis connect to {}:{} failed at once: {}", ip, port, context_ ? context_->errstr : "no memory");
        if (context_)
            redisAsyncFree(context_);
        context_ = nullptr;
        asio::post(executor_, [f = std::move(on_open_)] { f(make_error_code(error::backplane_unavailable)); });
        return;
    }
    context_->data = this;
    socket_watch::attach(context_, executor_);
    redisAsyncSetConnectCallback(context_, &redis_connection::on_connect_c);
    redisAsyncSetDisconnectCallback(context_, &redis_connection::on_disconnect_c);
    connect_timer_.expires_after(timeout);
    connect_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || open_ || !context_)
            return;
        // Still connecting: give up on this attempt.
        close();
        if (auto f = std::move(on_open_))
            f(asio::error::timed_out);
    });
}

void redis_connection::on_connect_c(redisAsyncContext const* ac, int status)
{
    auto* self = static_cast<redis_connection*>(ac->data);
    self->connect_timer_.cancel();
    auto f = std::move(self->on_open_);
    if (status != REDIS_OK) {
        // hiredis frees the context after this returns.
        self->context_ = nullptr;
        if (f)
            asio::post(self->executor_, [f = std::move(f)] { f(make_error_code(error::backplane_unavailable)); });
        return;
    }
    self->open_ = true;
    if (f)
        f({});
}

void redis_connection::on_disconnect_c(redisAsyncContext const* ac, int)
{
    auto* self = static_cast<redis_connection*>(ac->data);
    self->context_ = nullptr;  // hiredis frees it after this returns
    self->lost();
}

void redis_connection::lost()
{
    bool const was_open = open_;
    open_ = false;
    sent_at_.clear();
    if (was_open && !closing_ && on_lost_)
        asio::post(executor_, [f = on_lost_] { f(); });
}

void redis_connection::on_reply_c(redisAsyncContext*, void* reply, void* privdata)
{
    std::unique_ptr<reply_handler> done(static_cast<reply_handler*>(privdata));
    (*done)(static_cast<redisReply const*>(reply));
}

void redis_connection::on_push_c(redisAsyncContext* ac, void* reply, void*)
{
    auto* self = static_cast<redis_connection*>(ac->data);
    if (self->push_ && !self->closing_)
        self->push_(static_cast<redisReply const*>(reply));
}

bool redis_connection::command(std::vector<std::string> const& args, reply_handler done)
{
    if (!open_ || !context_)
        return false;
    std::vector<char const*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (auto const& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    sent_at_.push_back(std::chrono::steady_clock::now());
    auto* handler = new reply_handler([this, done = std::move(done)](redisReply const* r) {
        if (destroying_)
            return;
        if (r && !sent_at_.empty())
            sent_at_.pop_front();
        done(r);
    });
    if (redisAsyncCommandArgv(context_, &redis_connection::on_reply_c, handler, static_cast<int>(argv.size()),
                              argv.data(), lengths.data()) != REDIS_OK) {
        delete handler;
        sent_at_.pop_back();
        return false;
    }
    return true;
}

bool redis_connection::subscription(char const* verb, std::vector<std::string> const& channels)
{
    if (!open_ || !context_ || channels.empty())
        return false;
    std::vector<char const*> argv{verb};
    std::vector<std::size_t> lengths{std::char_traits<char>::length(verb)};
    for (auto const& c : channels) {
        argv.push_back(c.data());
        lengths.push_back(c.size());
    }
    return redisAsyncCommandArgv(context_, &redis_connection::on_push_c, nullptr, static_cast<int>(argv.size()),
                                 argv.data(), lengths.data()) == REDIS_OK;
}

void redis_connection::close()
{
    connect_timer_.cancel();
    closing_ = true;
    // Commands sent last (a stopping node's presence leaves) wait for the socket's write event: write what the
    // socket takes now, since freeing drops the rest. A failed write frees the context itself (hiredis 0.14),
    // through on_disconnect_c, which forgets it.
    if (context_ && open_)
        redisAsyncHandleWrite(context_);
    if (auto* ac = context_) {
        context_ = nullptr;
        // Pending handlers run now, with null, and the disconnect callback (which sees closing_) too.
        redisAsyncFree(ac);
    }
    open_ = false;
    sent_at_.clear();
}

}  // namespace switchboard::redis
