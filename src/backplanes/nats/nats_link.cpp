#include "backplanes/nats/nats_link.hpp"

#include "backplanes/nats/asio_event_loop.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <stdexcept>

namespace switchboard::nats {

namespace asio = boost::asio;

namespace {

std::int64_t ms(std::chrono::milliseconds d)
{
    return static_cast<std::int64_t>(d.count());
}

void check(natsStatus s, char const* what)
{
    if (s != NATS_OK)
        throw std::runtime_error(std::string("nats: ") + what + ": " + natsStatus_GetText(s));
}

}  // namespace

nats_link::nats_link(asio::any_io_executor ex, link_options options)
    : ex_(ex),
      options_(std::move(options)),
      mailbox_(std::make_shared<mailbox>(ex, options_.batch_handoff)),
      timer_(ex)
{
    mailbox_->set_handlers([this](std::uint64_t id, msg_ptr m) { on_message(id, std::move(m)); },
                           [this](mailbox::connection_event e) { on_event(e); });
}

nats_link::~nats_link()
{
    close();
}

void nats_link::start(state_handler on_state)
{
    on_state_ = std::move(on_state);
    check(natsOptions_Create(&opts_), "options");
    check(natsOptions_SetURL(opts_, options_.url.c_str()), "url");
    check(natsOptions_SetName(opts_, options_.name.c_str()), "name");
    check(natsOptions_SetTimeout(opts_, ms(options_.connect_timeout)), "timeout");
    check(natsOptions_SetMaxReconnect(opts_, -1), "max reconnect");  // never give up, never close by itself
    check(natsOptions_SetReconnectWait(opts_, ms(options_.reconnect_wait)), "reconnect wait");
    check(natsOptions_SetReconnectJitter(opts_, ms(options_.reconnect_jitter), ms(options_.reconnect_jitter)),
          "reconnect jitter");
    check(natsOptions_SetPingInterval(opts_, ms(options_.ping_interval)), "ping interval");
    check(natsOptions_SetMaxPingsOut(opts_, options_.max_pings_out), "max pings out");
    // One delivery thread for every subscription of the process instead of one thread per subscription:
    // a node subscribes once per topic with local subscribers.
    check(natsOptions_UseGlobalMessageDelivery(opts_, true), "global delivery");
    // The connection's callbacks share one ref (cnats may call them after natsConnection_Destroy returned); the
    // closed callback is the last of them and deletes it.
    auto* events = mailbox_->make_ref();
    check(natsOptions_SetDisconnectedCB(opts_, &mailbox::on_disconnected, events), "disconnected callback");
    check(natsOptions_SetReconnectedCB(opts_, &mailbox::on_reconnected, events), "reconnected callback");
    check(natsOptions_SetClosedCB(opts_, &mailbox::on_closed, events), "closed callback");
    // A first connect that fails is retried in the background like a reconnect; connected tells when it works.
    check(natsOptions_SetRetryOnFailedConnect(opts_, true, &mailbox::on_connected, events), "retry on connect");
    if (!options_.ca_file.empty())
        check(natsOptions_LoadCATrustedCertificates(opts_, options_.ca_file.c_str()), "tls ca file");
    if (options_.io == io_mode::asio_loop && options_.url.find("tls://") != std::string::npos) {
        // With an event loop, cnats waits for the rest of a TLS record with a blocking poll() on the thread that
        // reads: the loop. TLS connections use cnats' own threads (see asio_event_loop.hpp).
        spdlog::info("nats: tls:// uses cnats' own threads, not the loop");
        options_.io = io_mode::cnats_threads;
    }
    if (options_.io == io_mode::asio_loop) {
        loop_ = std::make_unique<asio_event_loop>(ex_);
        check(loop_->install(opts_), "event loop");
        // Without "send as soon as possible" cnats still starts a flusher thread per connection, which wakes
        // 1 ms after a publish to ask for the write event. With it, a publish asks at once, and the write
        // happens in the loop's write event: everything published in the same loop turn leaves together.
        check(natsOptions_SetSendAsap(opts_, true), "send asap");
    } else if (options_.send_asap) {
        check(natsOptions_SetSendAsap(opts_, true), "send asap");
    }

    char* inbox = nullptr;
    check(natsInbox_Create(&inbox), "inbox");
    inbox_ = inbox;
    natsInbox_Destroy(inbox);

    natsStatus const s = natsConnection_Connect(&nc_, opts_);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        // No connection object: no callback will ever come, so the events ref is ours to delete.
        delete events;
        nc_ = nullptr;
        check(s, "connect");
    }
    subscriptions_.emplace(inbox_subscription, subscription{inbox_ + ".*", nullptr, nullptr});
    for (auto& [id, sub] : subscriptions_)
        create(id, sub);
    if (s == NATS_OK)
        asio::post(ex_, [this, alive = std::weak_ptr<bool>(alive_)] {
            if (!alive.expired() && !closed_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED)
                set_connected(true);
        });
    else
        spdlog::warn("nats: cannot connect to {} yet; retrying", options_.name);
}

bool nats_link::create(std::uint64_t id, subscription& s)
{
    if (!nc_ || s.sub)
        return s.sub != nullptr;
    auto* ref = mailbox_->make_ref(id);
    if (natsConnection_Subscribe(&s.sub, nc_, s.subject.c_str(), &mailbox::on_message, ref) != NATS_OK) {
        spdlog::error("nats: cannot subscribe to {}: {}", s.subject, nats_GetLastError(nullptr));
        delete ref;
        s.sub = nullptr;
        return false;
    }
    // The ref is deleted by the completion callback: after it, cnats makes no callback with it.
    natsSubscription_SetOnCompleteCB(s.sub, &mailbox::on_complete, ref);
    return true;
}

std::uint64_t nats_link::subscribe(std::string const& subject, message_handler on_message)
{
    if (closed_)
        return 0;
    auto const id = next_subscription_++;
    auto& s = subscriptions_[id];
    s.subject = subject;
    s.handler = std::move(on_message);
    if (nc_ && !create(id, s)) {
        subscriptions_.erase(id);
        return 0;
    }
    return id;
}

void nats_link::unsubscribe(std::uint64_t id)
{
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end() || id == inbox_subscription)
        return;
    if (auto* sub = it->second.sub) {
        // Messages already on their way are dropped by on_message: the id is gone.
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    subscriptions_.erase(it);
}

void nats_link::on_message(std::uint64_t id, msg_ptr m)
{
    if (id == inbox_subscription)
        return on_reply(m.get());
    auto it = subscriptions_.find(id);
    if (it != subscriptions_.end() && it->second.handler) {
        auto handler = it->second.handler;  // it may unsubscribe itself
        handler(m.get());
    }
}

void nats_link::on_event(mailbox::connection_event e)
{
    using event = mailbox::connection_event;
    if (closed_)
        return;
    switch (e) {
    case event::connected:
    case event::reconnected:
        // cnats has renewed every subscription on the new connection before telling us.
        if (natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
            lost_ = false;
            set_connected(true);
        }
        break;
    case event::disconnected:
    case event::closed:
        set_connected(false);
        break;
    }
}

void nats_link::set_connected(bool up)
{
    if (up == connected_)
        return;
    connected_ = up;
    spdlog::info("nats: {} {}", options_.name, up ? "connected" : "disconnected");
    if (!up)
        // Answers to requests sent on the lost connection will not come (and a request cnats kept in its
        // reconnect buffer may still take effect later: reported failed, it may exist; docs/scaling.md).
        fail_pending(make_error_code(nats_error::not_connected));
    if (on_state_)
        on_state_(up);
}

std::size_t nats_link::max_payload() const noexcept
{
    auto const n = nc_ ? natsConnection_GetMaxPayload(nc_) : 0;
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool nats_link::connected() const noexcept
{
    // connected_ follows cnats' events, which come through its async-callback thread: cnats itself knows
    // sooner that the connection is gone (and would keep what we send in its reconnect buffer meanwhile).
    // It may also be back before those events come: what is sent then fails when the disconnect arrives. So a
    // loss seen here lasts until the reconnected event.
    if (!connected_ || closed_)
        return false;
    auto const status = natsConnection_Status(nc_);
    if (status == NATS_CONN_STATUS_RECONNECTING || status == NATS_CONN_STATUS_DISCONNECTED)
        lost_ = true;
    return status == NATS_CONN_STATUS_CONNECTED && !lost_;
}

void nats_link::request(std::string const& subject, std::string_view data, std::vector<header> const& headers,
                        reply_handler done, std::chrono::milliseconds timeout)
{
    auto fail = [this, &done](nats_error e) {
        asio::post(ex_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done), e] {
            if (!alive.expired())
                done(make_error_code(e), nullptr);
        });
    };
    if (closed_)
        return fail(nats_error::closed);
    if (!connected())
        return fail(nats_error::not_connected);
    if (pending_.size() >= options_.max_pending_requests)
        return fail(nats_error::overloaded);
    auto const id = ++next_request_;
    auto const reply = inbox_ + "." + std::to_string(id);
    auto m = make_msg(subject, reply.c_str(), data, headers);
    if (!m || natsConnection_PublishMsg(nc_, m.get()) != NATS_OK) {
        return fail(nats_error::not_connected);
    }
    auto const deadline = std::chrono::steady_clock::now() + (timeout.count() > 0 ? timeout : options_.request_timeout);
    pending_.emplace(id, pending_request{std::move(done), deadline});
    bool const earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
    deadlines_.emplace(deadline, id);
    if (earliest)
        arm_timer();
}

boost::system::error_code nats_link::publish(std::string const& subject, std::string_view data,
                                             std::vector<header> const& headers)
{
    if (!connected())
        return nats_error::not_connected;
    auto m = make_msg(subject, nullptr, data, headers);
    if (!m || natsConnection_PublishMsg(nc_, m.get()) != NATS_OK) {
        return nats_error::not_connected;
    }
    return {};
}

std::pair<std::uint64_t, std::string> nats_link::open_inbox(message_handler on_message)
{
    auto subject = inbox_ + ".c." + std::to_string(++next_inbox_);
    return {subscribe(subject, std::move(on_message)), subject};
}

void nats_link::on_reply(natsMsg* m)
{
    auto const subject = msg_subject(m);
    auto const dot = subject.rfind('.');
    if (dot == std::string_view::npos)
        return;
    std::uint64_t id = 0;
    if (std::from_chars(subject.data() + dot + 1, subject.data() + subject.size(), id).ec != std::errc{})
        return;
    auto it = pending_.find(id);
    if (it == pending_.end())
        return;  // late: timed out or failed already
    auto p = std::move(it->second);
    pending_.erase(it);
    deadlines_.erase({p.deadline, id});
    if (msg_status(m) == 503)
        return p.done(make_error_code(nats_error::no_responders), nullptr);
    p.done({}, m);
}

void nats_link::arm_timer()
{
    if (deadlines_.empty()) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(deadlines_.begin()->first);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !closed_)
            on_timer();
    });
}

void nats_link::on_timer()
{
    auto const now = std::chrono::steady_clock::now();
    std::vector<reply_handler> expired;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        auto const id = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        auto it = pending_.find(id);
        if (it != pending_.end()) {
            expired.push_back(std::move(it->second.done));
            pending_.erase(it);
        }
    }
    arm_timer();
    for (auto& done : expired)
        done(make_error_code(nats_error::timed_out), nullptr);
}

void nats_link::fail_pending(boost::system::error_code ec)
{
    auto pending = std::move(pending_);
    pending_.clear();
    deadlines_.clear();
    timer_.cancel();
    for (auto& [id, p] : pending)
        p.done(ec, nullptr);
}

void nats_link::close()
{
    if (closed_)
        return;
    closed_ = true;
    connected_ = false;
    // Nothing cnats' threads hand over reaches us after this; then the connection goes, on this thread (the
    // event-loop adapter detaches here, see asio_event_loop.hpp).
    mailbox_->close();
    // What was published last (a stopping node's presence leaves) is still in cnats' buffer, written at the
    // next write event: write what the socket takes now, since closing drops the rest.
    if (nc_ && options_.io == io_mode::asio_loop && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED)
        natsConnection_ProcessWriteEvent(nc_);
    if (nc_)
        natsConnection_Close(nc_);
    for (auto& [id, s] : subscriptions_)
        if (s.sub)
            natsSubscription_Destroy(s.sub);
    subscriptions_.clear();
    if (nc_)
        natsConnection_Destroy(nc_);
    nc_ = nullptr;
    if (opts_)
        natsOptions_Destroy(opts_);
    opts_ = nullptr;
    fail_pending(make_error_code(nats_error::closed));
}

}  // namespace switchboard::nats
