#pragma once
// A channel that only counts what it is given, and keeps the last message to check it is the very one published.

#include <switchboard/channel.hpp>
#include <switchboard/message.hpp>

#include <cstdint>
#include <string_view>

class counting_channel final : public switchboard::channel {
public:
    counting_channel() : channel("127.0.0.1:0") {}

    std::string_view transport() const noexcept override { return "counting"; }
    switchboard::delivery_status deliver(switchboard::message_ptr const& m) override
    {
        ++delivered;
        last = m.get();
        return switchboard::delivery_status::queued;
    }
    void close(switchboard::disconnect const&) override { begin_closing(); }

    std::uint64_t delivered = 0;
    switchboard::message const* last = nullptr;
};
