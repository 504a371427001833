#pragma once
// cnats messages held and read from C++: ownership (a natsMsg handed to a callback is ours to destroy) and
// typed access to data, subject and headers.

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::nats {

struct msg_deleter {
    void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};
using msg_ptr = std::unique_ptr<natsMsg, msg_deleter>;

/// One header of a message to publish.
struct header {
    char const* key;
    std::string value;
};

std::string_view msg_subject(natsMsg* m) noexcept;
std::string_view msg_data(natsMsg* m) noexcept;
/// The header's first value; nullopt when absent. The view lives as long as the message.
std::optional<std::string_view> msg_header(natsMsg* m, char const* key) noexcept;
/// The header as an unsigned integer; nullopt when absent or not a number.
std::optional<std::uint64_t> msg_number(natsMsg* m, char const* key) noexcept;
/// The status of a reply made by the server ("NATS/1.0 404 ..."): 404, 408, 503 (no responders); 0 when none.
int msg_status(natsMsg* m) noexcept;

/// A message ready to publish; null when cnats cannot make it (no memory, a bad subject).
msg_ptr make_msg(std::string const& subject, char const* reply, std::string_view data,
                 std::vector<header> const& headers);

}  // namespace switchboard::nats
