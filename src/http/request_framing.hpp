#pragma once
// The rules of HTTP/1.1 message framing (RFC 9112) that Beast's parser leaves to the server. Beast reads a
// Transfer-Encoding whose last coding is not chunked as "no body", unfolds obsolete line folding, and accepts any
// HTTP/d.d version; behind a proxy that reads the same bytes differently, each of those lets a client smuggle a
// request inside another's body. A request that breaks a rule here is refused and its connection closed, so no
// byte of its body is ever read as a request.

#include <switchboard/http.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::detail {

/// Looks at the raw bytes of a request's start line and header fields as they arrive, before the parser, which
/// would unfold or normalize them: a bare CR or LF (RFC 9112 2.2), and a line starting with whitespace (obsolete
/// line folding, 5.2, or whitespace before the first field, 2.2), are refused. Empty lines before the request
/// line are allowed (2.2). One per request, fed every byte once, in order.
class header_scanner {
public:
    enum class verdict {
        more,  // no rule broken yet; the header section goes on
        done,  // the blank line ending the header section was scanned (the bytes after it are not looked at)
        bad,   // a rule is broken
    };

    /// Scans `bytes`, which follow those of the previous call; `used` gets how many were looked at (all of them,
    /// up to the end of the header section, or up to the offending byte included).
    verdict scan(std::string_view bytes, std::size_t& used) noexcept;
    /// After `bad`: which rule.
    std::string_view why() const noexcept { return why_; }
    /// True while the request line has not ended.
    bool in_request_line() const noexcept { return !started_ || request_line_; }

private:
    char previous_ = '\n';        // as if a line had just ended
    bool started_ = false;        // a byte of the request line was seen
    bool request_line_ = true;    // inside the request line
    bool line_empty_ = true;      // no byte yet on the current line
    bool done_ = false;
    std::string_view why_;
};

/// The version of a request line that Beast's parser refused as bad_version (it knows only 1.0 and 1.1):
/// major * 10 + minor when `head` starts with a line "method SP target SP HTTP/D.D CRLF" (single spaces), else -1.
int request_line_version(std::string_view head) noexcept;

/// What the header fields of a request parsed by Beast must still pass: exactly one valid Host in HTTP/1.1
/// (400), a Transfer-Encoding that is chunked alone, never with Content-Length nor in HTTP/1.0 (400, or 501
/// not_implemented for another coding before chunked), and no expectation but 100-continue (417
/// expectation_failed). `why` gets a message for the client.
boost::system::error_code check_request_head(http_request const& req, std::string& why);

/// The request asks for "100 Continue" before it sends its body (HTTP/1.1 only: 1.0 predates Expect).
bool expects_continue(http_request const& req);

/// Rewrites an absolute-form target ("http://host/path?q", RFC 9112 3.2.2) to its origin form ("/path?q"),
/// its authority replacing the Host field; any other target is left alone. error::bad_request for a scheme
/// other than http and https.
boost::system::error_code to_origin_form(http_request& req);

}  // namespace switchboard::detail
