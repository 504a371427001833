#include "support/chunked_decoder.hpp"

#include <algorithm>
#include <charconv>

namespace switchboard::test {

namespace {

// A size line longer than this is garbage, not a chunk header.
constexpr std::size_t max_line = 4096;

}  // namespace

bool chunked_decoder::feed(std::string_view bytes, std::string& out) {
    while (!bytes.empty() && state_ != state::done && state_ != state::error) {
        switch (state_) {
        case state::size_line:
            if (take_line(bytes)) {
                on_size_line();
            }
            break;
        case state::data: {
            auto const n = std::min(remaining_, bytes.size());
            out.append(bytes.substr(0, n));
            bytes.remove_prefix(n);
            remaining_ -= n;
            if (remaining_ == 0) {
                state_ = state::data_end;
            }
            break;
        }
        case state::data_end:
            if (take_line(bytes)) {
                state_ = line_.empty() ? state::size_line : state::error;
                line_.clear();
            }
            break;
        case state::trailer:
            if (take_line(bytes)) {
                state_ = line_.empty() ? state::done : state::trailer;
                line_.clear();
            }
            break;
        case state::done:
        case state::error:
            break;
        }
    }
    return state_ != state::error;
}

bool chunked_decoder::take_line(std::string_view& bytes) {
    auto const end = bytes.find('\n');
    line_.append(bytes.substr(0, end));
    if (end == std::string_view::npos) {
        bytes = {};
        if (line_.size() > max_line) {
            state_ = state::error;
        }
        return false;
    }
    bytes.remove_prefix(end + 1);
    if (!line_.empty() && line_.back() == '\r') {
        line_.pop_back();
    }
    return true;
}

void chunked_decoder::on_size_line() {
    auto const end = std::min(line_.find(';'), line_.size());
    std::size_t size = 0;
    auto const [ptr, ec] = std::from_chars(line_.data(), line_.data() + end, size, 16);
    bool const ok = ec == std::errc() && ptr != line_.data();
    line_.clear();
    if (!ok) {
        state_ = state::error;
    } else if (size == 0) {
        state_ = state::trailer;
    } else {
        remaining_ = size;
        state_ = state::data;
    }
}

}  // namespace switchboard::test
