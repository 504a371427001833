#include "long_polling/poll_channel.hpp"

#include "http/http_responses.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace switchboard::long_polling {

poll_channel::poll_channel(std::shared_ptr<detail::exchange> conn)
    : channel(conn->packed_remote_address()), conn_(std::move(conn))
{
}

poll_channel::~poll_channel()
{
    if (conn_)
        conn_->stop_watching();  // its exchange holds it by a plain pointer
}

void poll_channel::start(cursor positions, std::vector<message_ptr> replayed, bool recovered, pattern_limits limits,
                         std::vector<std::string> lost)
{
    cursor_ = encode_cursor(positions);
    if (!limits.empty() || !lost.empty()) {
        parts().limits = std::move(limits);
        parts().lost = std::move(lost);
    }
    // The history first, then what arrived live while other topics were still being subscribed.
    if (!replayed.empty()) {
        auto& messages = parts().messages;
        replayed.insert(replayed.end(), messages.begin(), messages.end());
        messages = std::move(replayed);
    }
    recovered_ = recovered;
    started_ = true;
    if (has_messages() || !recovered_) {
        answer();
        return;
    }
    conn_->set_aside_request();  // the wait may last the whole hold: hold only what the answer needs
    conn_->watch_for_departure(*this);
    auto& services = this->services();
    services.poll_holds.add(*this, services.options.poll_hold);
}

poll_channel::answer_parts& poll_channel::parts()
{
    if (!parts_)
        parts_ = std::make_unique<answer_parts>();
    return *parts_;
}

void poll_channel::expired()
{
    auto const self = shared_from_this();  // the answer may close it, and the server's set let it go
    answer();
}

delivery_status poll_channel::deliver(message_ptr const& m)
{
    if (answered_ || closing())
        return delivery_status::closing;  // the next poll's cursor starts before it
    auto const& o = services().options;
    auto& p = parts();
    if (!p.messages.empty() && (p.messages.size() >= o.max_poll_messages || p.live_bytes >= o.max_poll_bytes))
        return delivery_status::queued;  // left in history for the next poll: the answer's cursor stays before it
    p.messages.push_back(m);
    p.live_bytes += m->envelope()->size();
    services().flusher.schedule(std::static_pointer_cast<poll_channel>(shared_from_this()));
    return delivery_status::queued;
}

void poll_channel::flush()
{
    if (started_ && has_messages())
        answer();
}

void poll_channel::close(disconnect const& reason)
{
    if (answered_)
        return;  // finish() closed it
    // A code the client must act on (reconnect later, or never) is told in the answer, even before the poll
    // started: the hooks may close a channel while it subscribes.
    if (reason.code >= 3000)
        return answer(&reason);
    // On stop, a pending poll is answered with what it has; the next poll finds the server gone.
    if (!started_)
        return refuse(services().stopping ? error::shutting_down : error::backplane_unavailable);
    answer();
}

std::shared_ptr<detail::exchange> poll_channel::finish(disconnect const& reason)
{
    answered_ = true;
    auto conn = std::move(conn_);
    auto& services = conn->services();
    services.poll_holds.remove(*this);
    conn->stop_watching();
    if (begin_closing())
        services.closed(*this, reason);  // may let this channel go
    return conn;
}

void poll_channel::departed()
{
    auto const self = shared_from_this();  // finishing may let it go
    if (!answered_)
        finish(disconnect::write_failed())->abandon();
}

void poll_channel::refuse(boost::system::error_code ec, std::string_view message)
{
    if (answered_)
        return;
    finish()->respond_error(ec, message);
}

bool poll_channel::take_through_patterns(message const& m, cursor& positions)
{
    // The history's messages come first, in sequence order, then live ones: a message goes when it is past the
    // entry of a pattern that matches it (history and live may both hold it) and within that pattern's limit.
    if (m.sequence() == 0)
        return false;
    bool taken = false;
    for (auto& p : positions) {
        if (m.sequence() <= p.where.offset || !is_valid_pattern(p.topic) || !pattern_matches(p.topic, m.topic()))
            continue;
        if (parts_) {
            auto const& limits = parts_->limits;
            auto const limit = std::find_if(limits.begin(), limits.end(), [&](auto const& l) { return l.pattern == p.topic; });
            if (limit != limits.end() && m.sequence() > limit->last)
                continue;
        }
        p.where.offset = m.sequence();
        taken = true;
    }
    return taken;
}

void poll_channel::answer(disconnect const* told)
{
    if (answered_)
        return;
    // Bounded in messages and bytes (one message always goes): an answer the client does not read holds no more
    // while it waits to be written; the rest comes with the next poll, from history.
    static std::vector<message_ptr> const none;
    auto const& messages = parts_ ? parts_->messages : none;
    cursor positions;
    // The text start() made from the positions it was given: it reads back whole. Were it not to, no answer goes
    // whose cursor could step over a message.
    if (decode_cursor(cursor_, positions, std::numeric_limits<std::size_t>::max()))
        return refuse(error::internal_error, "the poll's cursor could not be read back");
    std::string body;
    std::size_t size = 128 + 2 * cursor_.size();  // what is not the messages: the cursor, the fields
    for (auto const& m : messages)
        size += m->envelope()->size() + 1;  // bounded as the answer is (deliver)
    body.reserve(size);
    body += R"({"messages":[)";
    auto const& options = services().options;
    std::size_t count = 0;
    std::size_t bytes = 0;
    for (auto const& next : messages) {
        auto const& m = *next;
        if (count == options.max_poll_messages ||
            (count > 0 && bytes + m.envelope()->size() > options.max_poll_bytes))
            break;
        // Only its topic's next message: a first page of history may stop short of what arrived live meanwhile,
        // and the cursor never steps over a message the client has not had.
        auto it = std::lower_bound(positions.begin(), positions.end(), m.topic(),
                                   [](topic_position const& p, std::string const& topic) { return p.topic < topic; });
        if (it == positions.end() || it->topic != m.topic()) {
            if (!take_through_patterns(m, positions))
                continue;
        } else if (it->where.epoch != m.epoch() || m.offset() != it->where.offset + 1) {
            continue;
        } else {
            it->where = m.where();
        }
        if (count++)
            body += ',';
        body += *m.envelope();
        bytes += m.envelope()->size();
    }
    body += R"(],"cursor":")";
    body += encode_cursor(positions);
    body += '"';
    if (!presence_topics().empty())
        // The membership the next poll takes over with the key, within the grace (docs/protocol.md).
        body += R"(,"presence":{"client":")" + presence_client() + R"(","resume":")" + presence_key() + R"("})";
    if (!recovered_)
        body += R"(,"recovered":false)";
    if (parts_ && !parts_->lost.empty())
        body += R"(,"lost":)" + nlohmann::json(parts_->lost).dump();
    if (told)
        body += R"(,"close":)" + nlohmann::json{{"code", told->code}, {"reason", told->reason}}
                                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // as SSE's
    body += '}';
    parts_.reset();

    services().metrics.bytes_out += body.size();
    auto conn = finish(told ? *told : disconnect::normal());
    conn->respond(detail::json_response(conn->request(), std::move(body)));
}

}  // namespace switchboard::long_polling
