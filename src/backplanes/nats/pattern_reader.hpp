#pragma once
// A pattern's history from the stream (backplane::pattern_history), with what nats-server 2.9 offers.
//
// The backplane's sequence comes from the stream's: one stream holds every topic, so it increases across all
// topics and all nodes sharing it. A message's sequence is its record's stream sequence (Nats-Sequence) and its
// place in that record (stream_record.hpp: sequence = stream sequence * 256 + index). Its epoch is the stream's
// creation time (its info's `created`, digits and letters only, and "r"): the same for every node, and new when
// the stream is made again (a server that lost its store). A position after all of record S is (S, 255).
//
// read(pattern, since) asks the stream's info first: its creation time, its first and last sequences, and how
// many subjects it holds. Then the matching records from the one `since` is in up to the last sequence, of the
// pattern's filter ("<prefix>.topic.<pattern>"), in stream order, and their messages after `since`, by one of
// two ways, as history_reader does:
//   - the first walk_limit of them by direct gets ("seq" + "next_by_subj" with the filter: the next matching
//     message, one round trip each), which is all a short absence needs;
//   - the rest through an ephemeral push consumer (ack none, memory, filter, start sequence) that is deleted
//     once read.
// A page ends at max_bytes of envelopes (the first message always). Matched topics are counted while reading.
// When the page ended early in a stream of more subjects than max_topics, the stream is asked how many the
// filter matches (subjects_filter with an offset past the end: the total only, not the list); when that is
// more than max_topics too, the read goes on past the page counting topics only. So more than max_topics
// topics with messages after `since` always fail it (error::too_many_topics), and a resume that fits in a page,
// or a pattern matching few topics, costs no more than its page.
//
// What is gone: every stored record names its topic's previous record (Nats-Expected-Last-Subject-Sequence,
// checked by JetStream at publish and kept with it). A record whose previous one is after `since`'s own and was
// not read before it means its topic lost messages: the topic is named in `lost`. Messages hidden by their topic's
// own limits (count, age: the stream keeps the largest of every rule) name their topic too. Messages removed
// from the head of the stream (age, the stream's byte bound) take their subjects with them: when the stream's
// first sequence is past the record `since` is in (or past the next one, for a position after a whole record),
// recovered is false with nobody named (the removed messages may not have matched, or may all have been
// delivered: docs/scaling.md says how precise this is). Epoch markers (offset 0) are read past: they are no
// message, and the first message of an epoch (offset 1) follows nothing of its topic.
//
// Thread-safety: loop thread only. Handlers are never called from inside the call that takes them; none is
// called once the reader is destroyed.

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>
#include <switchboard/position.hpp>

#include "backplanes/nats/nats_link.hpp"
#include "backplanes/nats/stream_record.hpp"
#include "backplanes/nats/subject.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::nats {

/// The sequence epoch of a stream created at `created` (its info's RFC 3339 time): its digits and letters (the
/// nanoseconds are the last to go) and "r", at most max_epoch_length in all; empty when `created` has none.
std::string sequence_epoch(std::string_view created);

class pattern_reader {
public:
    pattern_reader(boost::asio::any_io_executor ex, nats_link& link, subjects const& names, std::string stream);
    ~pattern_reader();
    pattern_reader(pattern_reader const&) = delete;
    pattern_reader& operator=(pattern_reader const&) = delete;

    /// See backplane::pattern_history. `history`: the per-topic limits applied to what is read. Fails with
    /// error::too_many_topics, or with the link's errors (not_connected, timed_out...), bad_reply, api_error.
    void read(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
              std::size_t max_topics, history_options const& history, backplane::pattern_history_handler done);

    /// Up to this many messages are read by direct gets; more through a push consumer.
    std::size_t walk_limit = 16;
    /// A consumer's read that has not ended after this long fails (timed_out); the server removes a consumer
    /// left behind after the same time without activity.
    std::chrono::milliseconds consumer_timeout{10'000};

private:
    struct read_state;
    using read_ptr = std::shared_ptr<read_state>;

    void on_info(read_ptr const& r, boost::system::error_code ec, natsMsg* m);
    void walk(read_ptr r);
    void consume(read_ptr r);
    /// The page is full in a stream of more subjects than max_topics: whether to count topics past it.
    void page_filled(read_ptr r);
    /// One matching record, in stream order: counted, checked against its topic's previous one, paged.
    /// False when the read ended (failed, or has read all it needs).
    bool examine(read_ptr const& r, std::string const& topic, stream_record const& rec);
    /// Reading is over: apply the per-topic count limits to the page, then answer.
    void complete(read_ptr r);
    void finish(read_ptr const& r, boost::system::error_code ec = {});
    void end_consumer(read_ptr const& r);

    boost::asio::any_io_executor ex_;
    nats_link& link_;
    subjects const& names_;
    std::string stream_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace switchboard::nats
