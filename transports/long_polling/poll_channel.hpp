#pragma once
// One long poll: a channel that lives for one request. It answers as soon as it has messages (at the end of
// the loop turn that brought them, so a burst leaves in one answer), or empty when the hold time ends, and
// then closes. The cursor in each answer resumes the next poll from history, so nothing published between
// two polls is lost. A poll closed with a code of 3000 or more (the application's, switchboard's own) answers
// with what it has and a "close" field holding {code, reason}, as a WebSocket close frame would.

#include "core/deadline_list.hpp"
#include "write_path/flush_scheduler.hpp"
#include "http/http_connection.hpp"
#include "channel_services.hpp"

#include <switchboard/channel.hpp>
#include <switchboard/cursor.hpp>

#include <memory>
#include <string>
#include <vector>

namespace switchboard::long_polling {

// flushable last, and the flags first among the members: they take its padding (16 bytes of every waiting poll,
// with malloc's rounding).
class poll_channel final : public channel,
                           public detail::departure_listener,
                           private detail::deadline_list::entry,
                           public detail::flushable {
public:
    explicit poll_channel(std::shared_ptr<detail::exchange> conn);
    ~poll_channel() override;

    std::string_view transport() const noexcept override { return "long-polling"; }
    delivery_status deliver(message_ptr const& m) override;
    void close(disconnect const& reason) override;
    void flush();

    /// How far a pattern's messages may go in this answer: its history's first page was only a page.
    struct pattern_limit {
        std::string pattern;
        std::uint64_t last;  // sequence
    };
    using pattern_limits = std::vector<pattern_limit>;

    /// Starts waiting from `positions` (sorted by name: topics at their offsets, patterns at their sequences),
    /// with `replayed` (what history gave back after them) ready to go, ahead of what arrived meanwhile.
    /// `lost`: the topics patterns resumed over whose messages history no longer has.
    void start(cursor positions, std::vector<message_ptr> replayed, bool recovered, pattern_limits limits = {},
               std::vector<std::string> lost = {});
    /// Answers the poll with an HTTP error instead, and closes.
    void refuse(boost::system::error_code ec, std::string_view message = {});
    /// The expiry of services.poll_holds.
    static void expire(detail::deadline_list::entry& due) { static_cast<poll_channel&>(due).expired(); }

private:
    /// The hold ended: the answer goes, empty.
    void expired();
    /// `told`: the close the answer tells (a code of 3000 or more), if any.
    void answer(disconnect const* told = nullptr);
    /// The client closed its end while the poll waited: no answer, the connection is dropped.
    void departed() override;
    /// Ends the wait and closes the channel; gives back the exchange, for the answer.
    std::shared_ptr<detail::exchange> finish(disconnect const& reason = disconnect::normal());
    /// Whether `m`, of a topic the poll does not name, goes in the answer through its patterns: it moves their
    /// entries of `positions` to its sequence.
    bool take_through_patterns(message const& m, cursor& positions);

    bool recovered_ = true;
    bool answered_ = false;
    bool started_ = false;  // positions known: deliveries before it wait for start()
    // Held until the answer: the services are its (where a reference of their own took 8 bytes of every poll).
    std::shared_ptr<detail::exchange> conn_;
    detail::channel_services& services() const noexcept { return conn_->services(); }
    // The positions the poll started from, in their text form until the answer reads them: a one-topic poll's
    // fits the string itself where the entry was a block of 72 bytes (and the topic's name one more past 15
    // characters).
    std::string cursor_;
    // What the answer takes besides the cursor, made by its first message (history's, or one delivered) or by
    // a pattern's resume: a poll that waits holds one pointer.
    struct answer_parts {
        std::vector<message_ptr> messages;
        std::size_t live_bytes = 0;  // of the messages delivered live, bounded as the answer is (deliver)
        // Only for a poll that resumed patterns and found a first page or a loss.
        pattern_limits limits;
        std::vector<std::string> lost;
    };
    answer_parts& parts();  // made if missing
    bool has_messages() const noexcept { return parts_ && !parts_->messages.empty(); }
    std::unique_ptr<answer_parts> parts_;
};

}  // namespace switchboard::long_polling
