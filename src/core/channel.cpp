#include <switchboard/channel.hpp>

#include "core/hub_topic.hpp"
#include "core/pattern_trie.hpp"

#include <atomic>

namespace switchboard {
namespace {
std::atomic<std::uint64_t> next_channel_id{1};
}

channel::channel(std::string remote_address)
    : id_(next_channel_id.fetch_add(1, std::memory_order_relaxed)),
      remote_address_(std::move(remote_address)),
      identity_(identity::anonymous())
{
}

void channel::set_identity(identity_ptr who) noexcept
{
    identity_ = who ? std::move(who) : identity::anonymous();
}

identity_ptr identity::anonymous()
{
    static identity_ptr const nobody = std::make_shared<identity const>();
    return nobody;
}

channel::~channel() = default;

bool channel::begin_closing() noexcept
{
    if (closing_)
        return false;
    closing_ = true;
    return true;
}

std::vector<std::string> channel::topics() const
{
    std::vector<std::string> out;
    out.reserve(subscriptions_.size());
    for (auto const& s : subscriptions_)
        out.push_back(s.topic->name);
    return out;
}

std::vector<std::string> channel::patterns() const
{
    std::vector<std::string> out;
    out.reserve(pattern_subscriptions_.size());
    for (auto const& s : pattern_subscriptions_)
        out.push_back(s.node->pattern);
    return out;
}

}  // namespace switchboard
