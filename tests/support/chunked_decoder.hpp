#pragma once
// Decodes an HTTP/1.1 chunked body fed in pieces, for the clients that read raw sockets.

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::test {

// Feeds bytes of a "Transfer-Encoding: chunked" body and appends the decoded payload. Chunk extensions
// and trailers are skipped. Bytes after the final chunk are ignored.
class chunked_decoder {
public:
    // Appends what `bytes` decode to onto `out`; false once the input is malformed (then stays false).
    bool feed(std::string_view bytes, std::string& out);
    // The last (zero-size) chunk and the trailer section have been read.
    bool done() const { return state_ == state::done; }
    bool failed() const { return state_ == state::error; }

private:
    enum class state { size_line, data, data_end, trailer, done, error };

    // Collects one line into line_; true once it ends ("\r\n", or a bare "\n" to be lenient).
    bool take_line(std::string_view& bytes);
    void on_size_line();

    state state_ = state::size_line;
    std::string line_;
    std::size_t remaining_ = 0;
};

}  // namespace switchboard::test
