#include <switchboard/message.hpp>

#include "core/base64.hpp"
#include "core/fossil_delta.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <stdexcept>

namespace switchboard {

message::message(std::string topic, position pos, std::string_view data, std::uint64_t sequence)
    : topic_(std::move(topic)), position_(std::move(pos)), sequence_(sequence), published_at_(std::chrono::steady_clock::now())
{
    // Topic names never need escaping (see topic.hpp), so the envelope is plain concatenation.
    std::string out;
    out.reserve(topic_.size() + data.size() + 64);
    out += R"({"type":"message","topic":")";
    out += topic_;
    out += R"(","offset":)";
    out += std::to_string(position_.offset);
    binary_ = data.starts_with(binary_prefix);
    if (binary_) {
        // Base64 needs no escaping inside a JSON string.
        out += R"(,"encoding":"base64","data":)";
        data_begin_ = out.size();
        out += '"';
        out += data.substr(binary_prefix.size());
        out += '"';
    } else {
        out += R"(,"data":)";
        data_begin_ = out.size();
        out += data;
    }
    out += '}';
    envelope_ = std::make_shared<std::string const>(std::move(out));
}

std::string_view message::data() const noexcept
{
    std::string_view all = *envelope_;
    return all.substr(data_begin_, all.size() - data_begin_ - 1);
}

std::string message::sequenced_envelope() const
{
    // The envelope's head is fixed up to the offset's digits (see the constructor).
    std::size_t const head = std::string_view(R"({"type":"message","topic":")").size() + topic_.size() +
                             std::string_view(R"(","offset":)").size() + std::to_string(position_.offset).size();
    std::string out = envelope_->substr(0, head);
    out += R"(,"sequence":)";
    out += std::to_string(sequence_);
    out.append(*envelope_, head);
    return out;
}

std::string message::binary_payload() const
{
    auto const text = data();
    if (!binary_ || text.size() < 2)
        return {};
    return detail::base64_decode(text.substr(1, text.size() - 2)).value_or(std::string());
}

shared_bytes const& message::delta_envelope(message const& previous) const
{
    if (binary_ || previous.binary_ || previous.topic_ != topic_ || previous.position_.epoch != position_.epoch ||
        previous.position_.offset + 1 != position_.offset)
        return envelope_;
    static std::size_t const slot = reserve_encoding_slot();
    return encoding(slot, [&](message const& self) -> shared_bytes {
        auto const delta = detail::make_delta(previous.data(), self.data());
        std::string quoted;
        try {
            // The delta of UTF-8 text is UTF-8 (fossil_delta.hpp); JSON escaping keeps it byte for byte.
            quoted = nlohmann::json(delta).dump();
        } catch (nlohmann::json::exception const&) {
            return self.envelope_;  // not UTF-8 after all: the full payload, never a wrong one
        }
        std::string out = R"({"type":"message","topic":")" + self.topic_ + R"(","offset":)" +
                          std::to_string(self.position_.offset) + R"(,"encoding":"delta","data":)" + quoted + '}';
        if (out.size() >= self.envelope_->size())
            return self.envelope_;
        return std::make_shared<std::string const>(std::move(out));
    });
}

std::size_t message::reserve_encoding_slot()
{
    static std::atomic<std::size_t> next{0};
    std::size_t const slot = next++;
    if (slot >= encoding_slots)
        throw std::logic_error("switchboard: more message encodings than message::encoding_slots");
    return slot;
}

}  // namespace switchboard
