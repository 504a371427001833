#include <switchboard/channel.hpp>

#include "core/hub_topic.hpp"
#include "core/pattern_trie.hpp"

#include <atomic>

namespace switchboard {
namespace {
std::atomic<std::uint64_t> next_channel_id{1};
}

channel::channel(std::string remote_address) : channel(detail::packed_address(remote_address)) {}

channel::channel(detail::packed_address remote_address)
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

delivery_status channel::deliver_presence(presence_event_ptr const&)
{
    return delivery_status::queued;
}

void channel::tell_unsubscribed(std::string const&, bool) {}

namespace {
std::string const no_string;
std::vector<std::string> const no_topics;
}

channel::seldom_state& channel::seldom()
{
    if (!seldom_)
        seldom_ = std::make_unique<seldom_state>();
    return *seldom_;
}

std::vector<channel::pattern_subscription> const& channel::pattern_subscriptions() const noexcept
{
    static std::vector<pattern_subscription> const none;
    return seldom_ ? seldom_->pattern_subscriptions : none;
}

std::string const& channel::presence_client() const noexcept
{
    return seldom_ ? seldom_->presence_client : no_string;
}

std::string const& channel::presence_key() const noexcept
{
    return seldom_ ? seldom_->presence_key : no_string;
}

void channel::set_presence_identity(std::string client, std::string key)
{
    seldom().presence_client = std::move(client);
    seldom().presence_key = std::move(key);
}

bool channel::present_in(std::string_view topic) const noexcept
{
    if (!seldom_)
        return false;
    for (auto const& t : seldom_->presence_topics)
        if (t == topic)
            return true;
    return false;
}

void channel::set_present(std::string const& topic, bool present)
{
    auto& topics = seldom().presence_topics;
    for (std::size_t i = 0; i < topics.size(); ++i)
        if (topics[i] == topic) {
            if (!present) {
                topics[i] = std::move(topics.back());
                topics.pop_back();
            }
            return;
        }
    if (present)
        topics.push_back(topic);
}

std::vector<std::string> const& channel::presence_topics() const noexcept
{
    return seldom_ ? seldom_->presence_topics : no_topics;
}

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
    out.reserve(pattern_subscriptions().size());
    for (auto const& s : pattern_subscriptions())
        out.push_back(s.node->pattern);
    return out;
}

}  // namespace switchboard
