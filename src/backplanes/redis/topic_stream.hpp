#pragma once
// One topic's stream on this node, for the Redis backplane: the per-topic ordering. Live messages come from the
// topic's pub/sub channel, missed ones from its history in Redis; the stream delivers each offset once, in
// offset order, and reports a gap when messages are gone for good (trimmed, or an epoch change: Redis lost the
// topic). It owns no connection: it asks its host to read history and is told the answer, so tests drive it
// with made-up messages and answers (tests/unit/topic_stream_test.cpp).
//
// The stream starts at the first position a subscribe's history read returns (start_at): anything older is that
// read's to deliver. From then on:
// - the next offset is delivered; an older or equal one is a duplicate (already delivered from history) and
//   dropped; a later one means some are missing: it is held and the missing ones are read (catch up);
// - while catching up, live messages are held (at most max_held; past it, a gap) and released in order after;
// - a message of another epoch is a gap, then delivered as the start of the new stream.
//
// The stream keeps the last messages it delivered (recent_messages), so that a history read from among them is
// answered without Redis (recent()); a gap or a reset forgets them.
//
// Thread-safety: loop thread only.

#include <switchboard/backplane.hpp>
#include <switchboard/message.hpp>
#include <switchboard/position.hpp>

#include "backplanes/recent_messages.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::redis {

class topic_stream {
public:
    /// What a stream needs from the backplane it serves.
    class host {
    public:
        /// Hands `m` to the node (backplane::deliver).
        virtual void deliver(message_ptr const& m) = 0;
        /// Messages of `topic` are missing for good: the node's subscribers are told (backplane::report_gap),
        /// which may close them all. True when the node still wants the topic afterwards.
        virtual bool gap(std::string const& topic) = 0;
        /// Reads every message of `topic` after `after`; the answer goes to caught_up(), unless the stream
        /// was reset meanwhile.
        virtual void read_missed(std::string const& topic, position const& after) = 0;

    protected:
        ~host() = default;
    };

    topic_stream(host& h, std::string topic, std::size_t max_held);

    /// The stream starts after `p`, unless it has started already.
    void start_at(position const& p);
    /// A live message of the topic.
    void accept(message_ptr const& m);
    /// The answer to read_missed().
    void caught_up(boost::system::error_code ec, history_result r);
    /// The subscription is back after a lost connection: reads what was published meanwhile (if started).
    void resume();
    /// The command connection is back: a catch-up that failed on the way is tried again.
    void retry();
    /// The subscription ended: the stream starts anew at the next start_at().
    void reset();

    /// The last message delivered (or the start), if started.
    std::optional<position> const& last() const noexcept { return last_; }
    bool catching_up() const noexcept { return catching_up_; }
    /// Live messages held while catching up.
    std::size_t held() const noexcept { return held_.size(); }

    /// From now on keeps `max` of the messages it delivers for history reads, within `budget` shared with the
    /// node's other topics (none until then).
    void keep_recent(std::size_t max, detail::recent_budget& budget) { recent_.keep(max, budget); }
    /// What a history read after `since` returns, from the messages this node delivered last
    /// (recent_messages::after); nothing while catching up, or when the read needs Redis.
    std::optional<history_result> recent(position const& since, std::size_t max_bytes,
                                         std::chrono::steady_clock::time_point oldest) const;
    /// Messages kept for recent().
    std::size_t recent_count() const noexcept { return recent_.size(); }

private:
    void catch_up();
    void release_held();
    void gap(position now, message_ptr const& next = nullptr);
    void deliver(message_ptr const& m);

    host& host_;
    std::string topic_;
    std::size_t max_held_;
    std::optional<position> last_;
    bool catching_up_ = false;      // reading missed messages from history
    bool catch_up_failed_ = false;  // ... and Redis went away meanwhile: again on retry()
    std::vector<message_ptr> held_;  // live messages arrived while catching up
    detail::recent_messages recent_;  // the last delivered, ending at last_
};

}  // namespace switchboard::redis
