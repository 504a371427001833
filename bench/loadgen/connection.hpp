#pragma once
// One client connection of the run: a subscriber (ws, sse, poll) or a publisher (http, ws), with the state of
// whichever protocol it speaks and its delivery accounting. The run owns every connection and drives its I/O.

#include "chunk_decoder.hpp"
#include "response_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Application bytes received and sent at the client sockets.
struct counters {
    std::uint64_t rx = 0, tx = 0;
};

class run;

// One client connection: a subscriber (ws, sse, poll) or a publisher (http, ws).
struct connection {
    enum class role { subscriber, http_publisher, ws_publisher };
    enum class phase { connecting, handshake, ready, closed };

    run* owner;
    role kind;
    std::size_t index;
    tcp::socket socket;
    phase state = phase::connecting;
    std::string pending;        // unparsed input
    std::string out;            // output the socket did not take yet
    bool write_waiting = false;

    // Subscriber accounting.
    // Publishers on several connections may reach the server out of order, so deliveries are tracked in a
    // bitset by seq: exact duplicates and loss, with reordering counted apart.
    std::uint64_t received = 0, duplicates = 0, reordered = 0;
    std::uint64_t last_seq = 0;
    std::vector<std::uint64_t> seen;

    // WebSocket: the message being reassembled from fragments.
    std::string fragments;
    // SSE: the response head is read; chunked body; the line being read.
    bool head_read = false;
    bool told_all = false;  // --presence: a presence_stats frame counted every member (--presence-total)
    bool sse_chunked = false;
    chunk_decoder sse_chunks;
    std::string sse_line;
    // Long polling and HTTP publishing: the response being read; nchan's Etag / Last-Modified.
    response_reader response;
    std::string etag, last_modified;
    std::string cursor;         // switchboard: the cursor of the last poll answer
    // HTTP publisher: the seqs in flight, oldest first (answers come in order); 0 is the warm-up publish.
    std::deque<std::uint64_t> in_flight;
    std::string corked;         // requests written together at the end of run::pump

    connection(run* r, role k, std::size_t i, asio::io_context& io) : owner(r), kind(k), index(i), socket(io) {}
};

}  // namespace loadgen
