// The long-poll subscriber: one request parked at the server at a time; switchboard resumes from a cursor, Nchan
// from Etag / Last-Modified.

#include "run.hpp"

#include "http_head.hpp"

#include <string>

namespace loadgen {

void run::send_poll(connection& c)
{
    std::string target = sub_target_;
    auto const& cursor = c.cursor.empty() ? cursor_ : c.cursor;
    if (opt_.dialect == dialect_kind::switchboard && !cursor.empty())
        target += (target.find('?') == std::string::npos ? "?cursor=" : "&cursor=") + cursor;
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + opt_.host + "\r\n";
    if (!c.etag.empty())
        req += "If-None-Match: " + c.etag + "\r\n";
    if (!c.last_modified.empty())
        req += "If-Modified-Since: " + c.last_modified + "\r\n";
    req += "\r\n";
    c.response.reset();
    send(c, req);
}

void run::poll_input(connection& c)
{
    while (!c.pending.empty()) {
        bool done = false, error = false;
        auto const used = c.response.feed(c.pending.data(), c.pending.size(), done, error);
        c.pending.erase(0, used);
        if (error)
            return fail(c, "bad poll response");
        if (!done)
            return;
        int const status = status_code(c.response.head);
        auto const& body = c.response.body;
        if (opt_.dialect == dialect_kind::switchboard) {
            if (status != 200)
                return fail(c, "poll answered " + std::to_string(status) + ": " + body.substr(0, 200));
            auto const at = body.rfind("\"cursor\":\"");
            if (at != std::string::npos)
                c.cursor = body.substr(at + 10, body.find('"', at + 10) - at - 10);
            scan(c, body.data(), body.size());
        } else if (status == 200) {
            // Nchan: one message per answer; the next poll names the last one by Etag and Last-Modified.
            scan(c, body.data(), body.size());
            c.etag = header_value(c.response.head, "Etag");
            c.last_modified = header_value(c.response.head, "Last-Modified");
        } else if (status != 304 && status != 408) {
            return fail(c, "poll answered " + std::to_string(status));
        }
        if (c.state == connection::phase::closed)
            return;
        send_poll(c);
    }
}

}  // namespace loadgen
