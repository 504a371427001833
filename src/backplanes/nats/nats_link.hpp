#pragma once
// One connection to NATS through cnats, used from switchboard's loop: every handler runs on the loop thread,
// and nothing the loop calls waits on the network.
//
// I/O, two modes (link_options::io):
//   - asio_loop (default): cnats' external event loop interface answered by Asio (asio_event_loop): the socket is
//     read and written on the loop, with no reader or flusher thread per connection.
//   - cnats_threads: cnats' own reader and flusher threads (the fallback; also the one to use for tls://).
// Either way subscription callbacks run on cnats' delivery thread and connection events on its async-callback
// thread; the mailbox hands both to the loop. cnats' synchronous calls (natsConnection_Request, js_*) are never
// used: in asio_loop mode the reply would have to be read by the loop they block. Requests go out with a reply
// subject under this link's own inbox, and their answers come back as messages (one wildcard subscription).
//
// Thread-safety: loop thread only (the io_context must be run by one thread).

#include "backplanes/nats/nats_error.hpp"
#include "backplanes/nats/mailbox.hpp"
#include "backplanes/nats/nats_message.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchboard::nats {

class asio_event_loop;

enum class io_mode { asio_loop, cnats_threads };

struct link_options {
    /// nats://[user:password@|token@]host:port[,nats://...] (cnats' URL list). A tls:// URL makes the link use
    /// io_mode::cnats_threads whatever `io` says.
    std::string url = "nats://127.0.0.1:4222";
    /// tls:// only: a PEM file of the certificate authorities to trust for the server's certificate; empty: the
    /// system's.
    std::string ca_file;
    /// The connection's name, shown by the server (connz) and in its logs.
    std::string name = "switchboard";
    io_mode io = io_mode::asio_loop;
    /// cnats_threads only: write on the thread that publishes (the loop) instead of waking cnats' flusher
    /// thread, which waits 1 ms to gather more. Faster, but a full socket then blocks the loop in send().
    /// (asio_loop always sends as soon as possible: the write is the loop's own write event.)
    bool send_asap = false;
    /// Hand messages to the loop in batches through a lock-free queue (true) or with one post each (false).
    bool batch_handoff = true;
    /// The first connect (made in start(), on the calling thread: it blocks up to this long when the server
    /// does not answer) and each reconnect attempt.
    std::chrono::milliseconds connect_timeout{2'000};
    /// cnats waits this long, plus up to reconnect_jitter, between rounds of reconnect attempts. It never gives up.
    std::chrono::milliseconds reconnect_wait{100};
    std::chrono::milliseconds reconnect_jitter{100};
    /// A request without an answer for this long fails with nats_error::timed_out.
    std::chrono::milliseconds request_timeout{5'000};
    /// cnats PINGs the server this often and drops the connection after max_pings_out unanswered PINGs.
    std::chrono::milliseconds ping_interval{10'000};
    int max_pings_out = 2;
    /// Requests waiting for an answer; past it, requests are refused with nats_error::overloaded.
    std::size_t max_pending_requests = 100'000;
};

class nats_link {
public:
    /// Called on the loop when the link becomes connected (true) or loses its connection (false).
    using state_handler = std::function<void(bool connected)>;
    /// A message of a subscription; it lives for the duration of the call.
    using message_handler = std::function<void(natsMsg*)>;
    /// The answer to a request (a message that may carry a status, see msg_status), or why there is none.
    using reply_handler = std::function<void(boost::system::error_code, natsMsg*)>;

    nats_link(boost::asio::any_io_executor ex, link_options options);
    ~nats_link();
    nats_link(nats_link const&) = delete;
    nats_link& operator=(nats_link const&) = delete;

    /// Connects (see link_options::connect_timeout), then keeps reconnecting by itself. `on_state` is called
    /// on every change, never from inside start(). Throws std::runtime_error for options cnats refuses.
    void start(state_handler on_state);

    /// Connected now: cnats' own state, which knows of a lost connection before its event reaches the loop.
    bool connected() const noexcept;

    /// Sends `data` with `headers` to `subject` with a reply subject of this link's inbox; `done` gets the
    /// answer, or not_connected (nothing sent), timed_out, no_responders, overloaded, closed. Never called from
    /// inside request(). `timeout` zero: options.request_timeout.
    void request(std::string const& subject, std::string_view data, std::vector<header> const& headers,
                 reply_handler done, std::chrono::milliseconds timeout = {});

    /// Sends without waiting for anything; not_connected when the link is down (nothing sent).
    boost::system::error_code publish(std::string const& subject, std::string_view data,
                                      std::vector<header> const& headers = {});

    /// Subscribes to `subject` (cnats renews it after each reconnect). Returns the subscription's id, 0 if
    /// cnats refused it. Made before the connection exists, it is created once it does.
    std::uint64_t subscribe(std::string const& subject, message_handler on_message);
    void unsubscribe(std::uint64_t id);

    /// A fresh subject under this link's inbox, subscribed with `on_message` (a push consumer's deliver subject).
    /// Its own subscription: nats-server 2.9 delivers a push consumer's messages only to a subscription on that
    /// exact subject, not to a wildcard that covers it; and one token deeper than the request inbox ("<inbox>.c.N"),
    /// so the inbox's wildcard does not get each message a second time. Returns {subscription id, subject};
    /// unsubscribe(id) ends it.
    std::pair<std::uint64_t, std::string> open_inbox(message_handler on_message);

    std::size_t pending_requests() const noexcept { return pending_.size(); }
    /// The largest message the server takes (its max_payload), headers included; 0 while not connected.
    std::size_t max_payload() const noexcept;

    /// Closes the connection; pending requests fail with nats_error::closed (called from here). Blocks while
    /// cnats joins its reconnect thread if one is in a connect attempt (up to connect_timeout).
    void close();

private:
    struct subscription {
        std::string subject;
        message_handler handler;
        natsSubscription* sub = nullptr;
    };
    struct pending_request {
        reply_handler done;
        std::chrono::steady_clock::time_point deadline;
    };

    void on_event(mailbox::connection_event e);
    void on_message(std::uint64_t id, msg_ptr m);
    void on_reply(natsMsg* m);
    bool create(std::uint64_t id, subscription& s);
    void set_connected(bool up);
    void fail_pending(boost::system::error_code ec);
    void arm_timer();
    void on_timer();

    boost::asio::any_io_executor ex_;
    link_options options_;
    std::unique_ptr<asio_event_loop> loop_;
    std::shared_ptr<mailbox> mailbox_;
    natsOptions* opts_ = nullptr;
    natsConnection* nc_ = nullptr;
    state_handler on_state_;
    bool connected_ = false;
    // connected() saw cnats without its connection before the events saying so came: down until a (re)connected
    // event, so that a reconnect quicker than the events is not taken for no loss at all.
    mutable bool lost_ = false;
    bool closed_ = false;

    std::string inbox_;  // "_INBOX.<nuid>"; a request's reply subject is inbox_ + "." + its id
    std::uint64_t next_request_ = 0;
    std::unordered_map<std::uint64_t, pending_request> pending_;
    std::set<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> deadlines_;
    boost::asio::steady_timer timer_;

    static constexpr std::uint64_t inbox_subscription = 1;
    std::uint64_t next_subscription_ = inbox_subscription + 1;
    std::map<std::uint64_t, subscription> subscriptions_;
    std::uint64_t next_inbox_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted handlers run only while it lives
};

}  // namespace switchboard::nats
