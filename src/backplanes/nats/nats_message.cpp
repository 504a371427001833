#include "backplanes/nats/nats_message.hpp"

#include <charconv>

namespace switchboard::nats {

std::string_view msg_subject(natsMsg* m) noexcept
{
    char const* s = natsMsg_GetSubject(m);
    return s ? std::string_view(s) : std::string_view();
}

std::string_view msg_data(natsMsg* m) noexcept
{
    char const* d = natsMsg_GetData(m);
    return d ? std::string_view(d, static_cast<std::size_t>(natsMsg_GetDataLength(m))) : std::string_view();
}

std::optional<std::string_view> msg_header(natsMsg* m, char const* key) noexcept
{
    char const* value = nullptr;
    if (natsMsgHeader_Get(m, key, &value) != NATS_OK || value == nullptr) {
        return std::nullopt;
    }
    return std::string_view(value);
}

std::optional<std::uint64_t> msg_number(natsMsg* m, char const* key) noexcept
{
    auto text = msg_header(m, key);
    if (!text)
        return std::nullopt;
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || end != text->data() + text->size())
        return std::nullopt;
    return v;
}

int msg_status(natsMsg* m) noexcept
{
    // cnats turns the status line of a header-only reply into the "Status" header.
    auto status = msg_number(m, "Status");
    return status ? static_cast<int>(*status) : 0;
}

msg_ptr make_msg(std::string const& subject, char const* reply, std::string_view data,
                 std::vector<header> const& headers)
{
    natsMsg* raw = nullptr;
    if (natsMsg_Create(&raw, subject.c_str(), reply, data.data(), static_cast<int>(data.size())) != NATS_OK)
        return nullptr;
    msg_ptr m(raw);
    for (auto const& h : headers)
        if (natsMsgHeader_Set(m.get(), h.key, h.value.c_str()) != NATS_OK)
            return nullptr;
    return m;
}

}  // namespace switchboard::nats
