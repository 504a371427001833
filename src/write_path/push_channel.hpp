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

#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::detail {

class push_channel : public channel, public flushable, public ticking, private io_owner {
public:
    delivery_status deliver(message_ptr const& m) final;
    void close(disconnect const& reason) final;
    void flush() final;
    bool on_tick(std::uint64_t now) final;

protected:
    push_channel(connection_stream stream, connection_slot slot, channel_services& services,
                 std::string remote_address);
    ~push_channel() override;

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
    /// Until release(): live messages wait (as many as the queue holds) for replays that are not known yet.
    void hold() { holding_ = true; }
    /// Ends hold(): what waited follows the replays given meanwhile.
    void release();

    /// Encodes and queues one message (through enqueue()).
    virtual void write_message(message_ptr const& m) = 0;

    /// Starts waiting for input, and keepalive ticks; call once the channel is open.
    void start_reading();

    /// Input bytes. Called on the loop thread; may call close().
    virtual void on_input(std::string_view bytes) = 0;
    /// The transport's last bytes for a client being closed with `reason` (none by default).
    virtual void queue_farewell(disconnect const& reason);
    /// A keepalive tick while open: `idle_in` and `idle_out` are ticks since the last input and output.
    virtual void keepalive_tick(std::uint64_t now, std::uint64_t idle_in, std::uint64_t idle_out) = 0;

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
    channel_io& io() noexcept;

    // A topic's replay: offsets next..last of its epoch, `page` holding the next ones already read.
    struct replay_state {
        std::string topic;
        std::string epoch;
        std::uint64_t next = 0;
        std::uint64_t last = 0;
        std::deque<message_ptr> page;
        std::uint64_t awaiting = 0;  // the page read it waits for (0: none); asked again, it waits for none
    };

    replay_state* find_replay(std::string_view topic);
    void add_to_page(replay_state& r, message_ptr const& m);
    delivery_status follow_replay(replay_state& r, message_ptr const& m);
    /// Whether `m` may wait in a replay's page: pages hold at most half the queue bound together.
    bool fits_in_pages(message const& m) const noexcept;
    bool has_room() const noexcept;
    void pump();
    void read_page(replay_state& r);
    void on_page(std::string const& topic, std::uint64_t request, boost::system::error_code ec, history_result page);
    void drop_replays();
    void too_slow();
    void finish_close();
    std::shared_ptr<push_channel> self();

    // Plain in place: an idle plain connection costs no extra block (one measured 50-100 B more per connection).
    std::variant<plain_io, std::unique_ptr<tls_io>> io_;
    connection_slot slot_;
    frame_queue queue_;
    std::vector<std::unique_ptr<replay_state>> replays_;  // at most one per topic, oldest first
    std::size_t page_bytes_ = 0;        // envelopes in every replay's page
    bool reading_page_ = false;         // one history read in flight at a time
    std::uint64_t page_reads_ = 0;      // numbers each read, so that a replay knows its own
    bool pumping_ = false;
    std::vector<message_ptr> held_;     // live messages waiting for release()
    std::size_t held_bytes_ = 0;
    bool holding_ = false;
    std::uint64_t last_input_ = 0;   // keepalive ticks
    std::uint64_t last_output_ = 0;
    std::unique_ptr<boost::asio::steady_timer> linger_;  // only while closing
    bool shut_down_ = false;
};

}  // namespace switchboard::detail
