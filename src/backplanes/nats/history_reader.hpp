#pragma once
// Reading a topic's history from the stream, with what nats-server 2.9 offers: direct gets
// ($JS.API.DIRECT.GET.<stream> with "seq", "last_by_subj", or "seq" + "next_by_subj"; no batches, which came
// in 2.11) and push consumers.
//
// after(topic, since) first gets the topic's last record (last_by_subj): its last offset and its epoch are the
// topic's position. Then the messages after `since`, by one of two ways:
//   - few (up to walk_limit): walk back from the last record, one direct get per record (stream_record.hpp: one
//     or several messages), following each record's Nats-Expected-Last-Subject-Sequence (its predecessor's);
//   - more: find the stream sequence of the record holding the first one wanted by bisection ("seq" +
//     "next_by_subj" probes, about log2(stream sequence) of them, often one), then let an ephemeral push consumer
//     (ack none, memory, filtered to the topic) stream the records to a subject of the link's inbox, and delete it.
// Per-topic limits (count, age) are applied to what is read: the stream keeps the largest of them.
//
// Thread-safety: loop thread only. Handlers are never called from inside the call that takes them.

#include <switchboard/backplane.hpp>
#include <switchboard/position.hpp>

#include "backplanes/nats/nats_link.hpp"
#include "backplanes/nats/stream_record.hpp"
#include "backplanes/nats/subject.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace switchboard::nats {

class history_reader {
public:
    /// The record, or nullopt when there is none (the topic is empty, the sequence is gone).
    using record_handler = std::function<void(boost::system::error_code, std::optional<stream_record>)>;
    using history_handler = std::function<void(boost::system::error_code, history_result)>;

    history_reader(boost::asio::any_io_executor ex, nats_link& link, subjects const& names, std::string stream);

    /// The topic's last record (its last offset is the topic's position), or nullopt for a topic without one.
    void last(std::string const& topic, record_handler done);
    /// The stream's record at `seq`, or nullopt when it is gone.
    void at(std::uint64_t seq, record_handler done);

    /// The topic's position, and without `since` nothing else; with it, the messages after it still in
    /// history under `limits`, oldest first, and whether they start right after it (recovered): a page of
    /// them whose envelopes total at most `max_bytes` (the first one always), as backplane::history.
    void after(std::string const& topic, std::optional<position> const& since, history_limits const& limits,
               std::size_t max_bytes, history_handler done);

    /// Up to this many messages are read by walking back; more through a push consumer.
    std::size_t walk_limit = 16;
    /// A consumer's read that has not ended after this long fails (timed_out); the server removes a consumer
    /// left behind after the same time without activity.
    std::chrono::milliseconds consumer_timeout{10'000};

private:
    struct read;  // one after() in progress

    void get(std::string const& request, record_handler done);
    void finish(std::shared_ptr<read> const& r, boost::system::error_code ec = {});
    /// A record a walk back read: its messages from want_from on.
    static void take(read& r, stream_record const& record);
    void walk_back(std::shared_ptr<read> r, std::uint64_t prev);
    void find_start(std::shared_ptr<read> r, std::uint64_t lo, std::uint64_t hi);
    void consume(std::shared_ptr<read> r, std::uint64_t start);

    boost::asio::any_io_executor ex_;
    nats_link& link_;
    subjects const& names_;
    std::string stream_;
};

}  // namespace switchboard::nats
