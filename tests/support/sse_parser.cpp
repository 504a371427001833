#include "support/sse_parser.hpp"

#include <algorithm>
#include <charconv>

namespace switchboard::test {

sse_parser::sse_parser(event_handler on_event) : on_event_(std::move(on_event)) {}

void sse_parser::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        // The "\n" of a "\r\n" whose "\r" ended the previous line (maybe in the previous feed).
        if (after_cr_ && bytes.front() == '\n') {
            bytes.remove_prefix(1);
            after_cr_ = false;
            continue;
        }
        after_cr_ = false;
        auto const end = bytes.find_first_of("\r\n");
        if (end == std::string_view::npos) {
            line_.append(bytes);
            return;
        }
        line_.append(bytes.substr(0, end));
        after_cr_ = bytes[end] == '\r';
        bytes.remove_prefix(end + 1);
        process_line(line_);
        line_.clear();
    }
}

void sse_parser::process_line(std::string_view line) {
    if (first_line_) {
        first_line_ = false;
        constexpr std::string_view bom = "\xEF\xBB\xBF";
        if (line.substr(0, bom.size()) == bom) {
            line.remove_prefix(bom.size());
        }
    }
    if (line.empty()) {
        return dispatch();
    }
    if (line.front() == ':') {
        ++comments_;
        return;
    }
    auto const colon = line.find(':');
    if (colon == std::string_view::npos) {
        return process_field(line, {});
    }
    auto value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    process_field(line.substr(0, colon), value);
}

void sse_parser::process_field(std::string_view field, std::string_view value) {
    if (field == "event") {
        event_type_ = value;
    } else if (field == "data") {
        data_.append(value).push_back('\n');
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) {
            id_buffer_ = value;
        }
    } else if (field == "retry") {
        bool const digits = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
            return c >= '0' && c <= '9';
        });
        std::uint64_t ms = 0;
        if (digits && std::from_chars(value.data(), value.data() + value.size(), ms).ec == std::errc()) {
            retry_ = ms;
        }
    }
    // Any other field is ignored, as the spec says.
}

void sse_parser::dispatch() {
    last_event_id_ = id_buffer_;
    if (data_.empty()) {
        event_type_.clear();
        return;
    }
    data_.pop_back();  // the "\n" after the last data line
    sse_event event;
    if (!event_type_.empty()) {
        event.type = std::move(event_type_);
    }
    event.id = last_event_id_;
    event.data = std::move(data_);
    data_.clear();
    event_type_.clear();
    on_event_(std::move(event));
}

}  // namespace switchboard::test
