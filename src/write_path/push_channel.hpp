#pragma once
// The write path shared by the streaming transports (WebSocket, SSE): a bounded frame queue over the client's
// byte stream (channel_io: plain TCP or TLS), flushed once per loop turn (flush_scheduler), so a fan-out's frames
// leave in one write per channel and turn.
//
// Replays are paced and bounded: a topic's replay is a range of offsets read from history a page at a time as
// the queue drains (the first page comes with the subscription), so a resume of any size within history costs
// the channel at most its queue bound and one page, whatever the client sends: one replay per topic (a client
// that asks again replaces it from its new position), one history read in flight. A live message of a topic
// whose replay is still going extends the range instead of waiting in memory; history gives it back in turn.
// If history lost part of a range meanwhile, the channel is closed with 4010 (stream gap), so the client
// resumes and learns it (recovered:false), rather than getting a stream with a hole.
//
// A pattern's replay (replay_pattern) is the same over the backplane's sequence: the messages of every topic the
// pattern matches after the client's sequence, in sequence order, read a page at a time
// (backplane::pattern_history) after the topic replays; a live message it matches extends it. Topics the channel
// holds exactly are left to their own replay, and a topic two replaying patterns match goes out once.
//
// Close path: close() marks the channel closing, runs the shared bookkeeping (hub, hooks, registry), lets the
// transport queue its farewell (a close frame, a close event), flushes it, shuts down sending and lingers for
// the peer's end, bounded by options.close_timeout.

#include <switchboard/channel.hpp>

#include "write_path/flush_scheduler.hpp"
#include "http/connection_slot.hpp"
#include "write_path/frame_queue.hpp"
#include "write_path/keepalive.hpp"
#include "write_path/plain_io.hpp"
#include "write_path/tls_io.hpp"
#include "http/connection_stream.hpp"
#include "channel_services.hpp"

#include <boost/asio/steady_timer.hpp>

#include <switchboard/backplane.hpp>
#include <switchboard/detail/string_hash.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace switchboard::detail {

// flushable last among the bases, and the flags first among the members: they take the padding after its own
// flag (8 bytes of every stream).
class push_channel : public channel, public ticking, private io_owner, public flushable {
public:
    delivery_status deliver(message_ptr const& m) final;
    /// Queued at once, as any frame: presence events take no offset, so they neither wait for nor join a replay.
    delivery_status deliver_presence(presence_event_ptr const& e) final;
    void close(disconnect const& reason) final;
    void flush();
    bool on_tick(std::uint64_t now) final;

    /// Makes the io of a channel that is not over a connection of its own (an HTTP/2 stream), for its owner.
    using io_factory = std::function<std::unique_ptr<channel_io>(io_owner&)>;

protected:
    push_channel(connection_stream stream, connection_slot slot, channel_services& services,
                 packed_address remote_address);
    /// Over an io `make` gives (an HTTP/2 stream's): the connection's slot stays with its connection.
    push_channel(io_factory const& make, channel_services& services, packed_address remote_address);
    ~push_channel() override;

    /// Sends the response head as its io carries heads (an HTTP/2 stream: HEADERS); false when the channel must
    /// write it as bytes (HTTP/1.1).
    bool send_head(http_response const& head);

    /// Queues data bytes; a channel over its queue bounds closes itself as a slow consumer. Returns false then.
    bool enqueue(shared_bytes bytes);
    /// Queues control bytes that must go out even past the bounds (farewells, an HTTP refusal); replies to
    /// commands go through enqueue(), so a client that never reads them is a slow consumer.
    void enqueue_control(shared_bytes bytes);
    /// Sends a topic's replay, at the pace the client reads, ahead of that topic's messages delivered after this
    /// call: `first` is its first page from history (oldest first; only the messages following each other from
    /// the first one count), `last` the offset it runs to (history gives what `first` stops short of). A topic's
    /// replay still going is replaced, from the new position.
    void replay(std::vector<message_ptr> const& first, std::uint64_t last);
    /// Drops what is left of a topic's replay (the client unsubscribed).
    void forget_replay(std::string_view topic);
    /// Sends a pattern's replay after the sequence `since`, ahead of the live messages it matches delivered after
    /// this call: `first` is the first page backplane::pattern_history answered (the rest is read as the client
    /// reads, up to first.latest). A pattern's replay still going is replaced.
    void replay_pattern(std::string const& pattern, position const& since, pattern_history_result const& first);
    /// The client gets every message of `pattern` after the sequence `from` (it subscribed from there, without
    /// a replay): another pattern's replay leaves those out.
    void pattern_started(std::string const& pattern, std::uint64_t from);
    /// Drops what is left of a pattern's replay and where it started (the client unsubscribed).
    void forget_pattern_replay(std::string_view pattern);
    /// Whether a replay of `pattern` is still going.
    bool replaying_pattern(std::string_view pattern) const noexcept;
    /// A pattern's replay is done: everything it matches up to `last` (the sequence) went out. The client's
    /// position in the pattern moves there (nothing by default).
    virtual void pattern_replayed(std::string const& pattern, position const& last);
    /// Until as many release() calls: live messages wait (as many as the queue holds) for replays that are not
    /// known yet.
    void hold() { ++book().holding; }
    /// Ends a hold(): once none is left, what waited follows the replays given meanwhile.
    void release();

    /// Encodes and queues one message (through enqueue()).
    virtual void write_message(message_ptr const& m) = 0;
    /// Encodes (once per event and wire format: presence_event::encoding) and queues one presence event.
    virtual void write_presence(presence_event_ptr const& e) = 0;
    /// Queues one message of `pattern`'s replay: while a pattern replays, every message it matches that the
    /// client gets comes this way, in sequence order (write_message by default).
    virtual void write_replayed_message(std::string const& pattern, message_ptr const& m);

    /// Starts waiting for input, and keepalive ticks; call once the channel is open.
    void start_reading();
    /// A stamp of the tick count, its low 32 bits (last_input_, last_output_, a transport's own), and the ticks
    /// since one: right across a wrap, and a tick is at least 10 ms (497 days).
    static std::uint32_t stamp(std::uint64_t tick) noexcept { return static_cast<std::uint32_t>(tick); }
    static std::uint64_t ticks_since(std::uint32_t stamped, std::uint64_t now) noexcept
    {
        return static_cast<std::uint32_t>(stamp(now) - stamped);
    }

    /// Input bytes. Called on the loop thread; may call close().
    virtual void on_input(std::string_view bytes) = 0;
    /// The transport's last bytes for a client being closed with `reason` (none by default).
    virtual void queue_farewell(disconnect const& reason);
    /// A keepalive tick while open: `idle_in` and `idle_out` are ticks since the last input and output.
    virtual void keepalive_tick(std::uint64_t now, std::uint64_t idle_in, std::uint64_t idle_out) = 0;
    /// Whether the client may send anything now. One that does not (an EventSource, a WebSocket that has only
    /// subscribed) rests its byte stream (channel_io::rest) each time its output is out, instead of after two
    /// quiet ticks: a stream that waits only for its client's end holds nothing of Asio's from its first write on.
    virtual bool expects_input() const noexcept { return true; }

private:
    bool reading_page_ = false;  // one history read in flight at a time
    bool pumping_ = false;
    bool shut_down_ = false;
    bool ticks_ = false;  // started (start_reading): keepalive ticks apply
    bool plain_ = false;  // io_ holds a plain_io

protected:
    channel_services& services_;

private:
    // io_owner: what the byte stream reports.
    frame_queue& outbox() noexcept override { return queue_; }
    void received(std::string_view bytes) override;
    void sent(std::size_t bytes) override;
    void made_room() override;
    void drained() override;
    void lost(boost::system::error_code ec) override;
    std::shared_ptr<io_owner> keep() override;
    plain_io_loop const& plain_loop() const noexcept override;
    /// Calls `f` with the io: a plain one as itself, in place (no virtual call), any other through channel_io.
    template <class F>
    decltype(auto) with_io(F&& f)
    {
        return plain_ ? f(io_.plain) : f(*io_.other);
    }

    // A topic's replay: offsets next..last of its epoch, `page` holding the next ones already read.
    struct replay_state {
        std::string topic;
        std::string epoch;
        std::uint64_t next = 0;
        std::uint64_t last = 0;
        std::deque<message_ptr> page;
        std::uint64_t awaiting = 0;  // the page read it waits for (0: none); asked again, it waits for none
    };

    // A pattern's replay: sequences after `read_to` are still to be read from history, up to `last`; `page`
    // holds what was read and not sent yet.
    struct pattern_replay_state {
        std::string pattern;
        std::string epoch;
        std::uint64_t started_at = 0;  // `last` when it started: later messages it matches all come through it
        std::uint64_t read_to = 0;
        std::uint64_t last = 0;
        std::deque<message_ptr> page;
        std::uint64_t awaiting = 0;
    };

    replay_state* find_replay(std::string_view topic);
    pattern_replay_state* find_pattern_replay(std::string_view pattern);
    /// A live message of a topic a pattern replay matches (and the channel does not hold exactly), or null.
    pattern_replay_state* replaying(message const& m);
    delivery_status follow_pattern_replay(pattern_replay_state& p, message_ptr const& m);
    void add_pattern_page(pattern_replay_state& p, pattern_history_result const& page);
    void read_pattern_page(pattern_replay_state& p);
    void on_pattern_page(std::string const& pattern, std::uint64_t request, boost::system::error_code ec,
                         pattern_history_result page);
    /// Sends one message of `pattern`'s replay, unless another pattern's replay sent it.
    void write_replayed(std::string const& pattern, message_ptr const& m);
    /// Whether a pattern other than `pattern`, not replaying, brings `m` to the client (it matches it and
    /// started before it).
    bool brought_by_another(std::string_view pattern, message const& m) const;
    /// One step of the pattern replays; false when they must wait (a read in flight) or are done.
    bool pump_pattern();
    void add_to_page(replay_state& r, message_ptr const& m);
    delivery_status follow_replay(replay_state& r, message_ptr const& m);
    /// Whether `m` may wait in a replay's page: pages hold at most half the queue bound together.
    bool fits_in_pages(message const& m) const noexcept;
    bool has_room() const noexcept;
    /// The bytes the next history page (a topic's or a pattern's) may take.
    std::size_t page_room() const noexcept;
    void pump();
    void read_page(replay_state& r);
    void on_page(std::string const& topic, std::uint64_t request, boost::system::error_code ec, history_result page);
    void drop_replays();
    void too_slow();
    void finish_close();
    std::shared_ptr<push_channel> self();

    // The byte stream under the channel: plain TCP in place (an idle plain connection then costs no extra block,
    // one measured 50-100 B more per connection), anything else (TLS, an HTTP/2 stream) behind a pointer. Which
    // one is told by plain_, among the flags: std::variant's index took 8 bytes of every channel.
    union io_storage {
        io_storage() noexcept {}
        ~io_storage() {}  // ~push_channel ends the one it holds
        plain_io plain;
        std::unique_ptr<channel_io> other;
    };
    io_storage io_;
    connection_slot slot_;
    frame_queue queue_;
    // Where each pattern the client holds started: it gets every message of the pattern after that sequence.
    struct pattern_start {
        std::string pattern;
        std::uint64_t from = 0;
    };
    // What replays, pattern subscriptions, holds and a close keep: made on first use and given back once empty
    // (when a pump() ends, or at the next keepalive tick), since most connections never replay: an idle one keeps
    // ~180 bytes less.
    struct replay_book {
        std::vector<std::unique_ptr<replay_state>> replays;  // at most one per topic, oldest first
        std::vector<std::unique_ptr<pattern_replay_state>> pattern_replays;  // at most one per pattern
        std::vector<pattern_start> pattern_starts;  // one per pattern, under max_subscriptions
        // While pattern replays run: per topic, the position of its last message they sent.
        std::unordered_map<std::string, position, string_hash, std::equal_to<>> pattern_sent;
        std::size_t page_bytes = 0;     // envelopes in every replay's page
        std::vector<message_ptr> held;  // live messages waiting for release()
        std::size_t held_bytes = 0;
        std::size_t holding = 0;
        // Numbers each history read, so that a replay knows its own: the book stays while one is in flight.
        std::uint64_t page_reads = 0;
        // A closing channel's wait for its peer's end (close_timeout): few channels close at any one time, and
        // every open one held the pointer.
        std::unique_ptr<boost::asio::steady_timer> linger;

        bool empty() const noexcept
        {
            return replays.empty() && pattern_replays.empty() && pattern_starts.empty() && held.empty() &&
                   holding == 0 && !linger;
        }
    };
    replay_book& book();  // made if missing

    std::unique_ptr<replay_book> book_;
    // Keepalive ticks of the last input and output (stamp): two in the 8 bytes one took.
    std::uint32_t last_input_ = 0;
    std::uint32_t last_output_ = 0;
};

}  // namespace switchboard::detail
