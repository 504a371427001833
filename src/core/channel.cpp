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

delivery_status channel::deliver_presence(presence_event_ptr const&)
{
    return delivery_status::queued;
}

void channel::tell_unsubscribed(std::string const&, bool) {}

namespace {
std::string const no_string;
std::vector<std::string> const no_topics;
}

std::string const& channel::presence_client() const noexcept
{
    return presence_ ? presence_->client : no_string;
}

std::string const& channel::presence_key() const noexcept
{
    return presence_ ? presence_->key : no_string;
}

void channel::set_presence_identity(std::string client, std::string key)
{
    if (!presence_)
        presence_ = std::make_unique<presence_state>();
    presence_->client = std::move(client);
    presence_->key = std::move(key);
}

bool channel::present_in(std::string_view topic) const noexcept
{
    if (!presence_)
        return false;
    for (auto const& t : presence_->topics)
        if (t == topic)
            return true;
    return false;
}

void channel::set_present(std::string const& topic, bool present)
{
    if (!presence_)
        presence_ = std::make_unique<presence_state>();
    auto& topics = presence_->topics;
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
    return presence_ ? presence_->topics : no_topics;
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
    out.reserve(pattern_subscriptions_.size());
    for (auto const& s : pattern_subscriptions_)
        out.push_back(s.node->pattern);
    return out;
}

}  // namespace switchboard
