#include "backplanes/presence_store.hpp"

#include <switchboard/error.hpp>

namespace switchboard::detail {

presence_store::join_answer presence_store::join(std::string const& topic, presence_member member,
                                                 std::size_t max_members)
{
    auto it = topics_.find(topic);
    if (it != topics_.end() && it->second.by_client.contains(member.client))
        return {};
    if (it != topics_.end() ? it->second.by_client.size() >= max_members : max_members == 0)
        return {error::too_many_members, nullptr};
    if (it == topics_.end())
        it = topics_.try_emplace(topic).first;
    auto& t = it->second;
    if (member.user.empty())
        ++t.anonymous;
    else
        ++t.users[member.user];
    ++members_;
    auto event = std::make_shared<presence_event const>(presence_event::kind::join, topic, member);
    auto const client = member.client;
    t.by_client.emplace(client, std::move(member));
    return {{}, std::move(event)};
}

presence_event_ptr presence_store::leave(std::string const& topic, std::string const& client)
{
    auto it = topics_.find(topic);
    if (it == topics_.end())
        return nullptr;
    auto& t = it->second;
    auto m = t.by_client.find(client);
    if (m == t.by_client.end())
        return nullptr;
    auto member = std::move(m->second);
    t.by_client.erase(m);
    --members_;
    if (member.user.empty()) {
        --t.anonymous;
    } else if (auto u = t.users.find(member.user); u != t.users.end() && --u->second == 0) {
        t.users.erase(u);
    }
    if (t.by_client.empty())
        topics_.erase(it);
    return std::make_shared<presence_event const>(presence_event::kind::leave, topic, std::move(member));
}

presence_page presence_store::members(std::string const& topic, std::string const& after, std::size_t limit) const
{
    presence_page page;
    auto it = topics_.find(topic);
    if (it == topics_.end() || limit == 0)
        return page;
    auto const& by_client = it->second.by_client;
    auto m = after.empty() ? by_client.begin() : by_client.upper_bound(after);
    for (; m != by_client.end() && page.members.size() < limit; ++m)
        page.members.push_back(m->second);
    if (m != by_client.end())
        page.next = page.members.back().client;
    return page;
}

presence_counts presence_store::counts(std::string const& topic) const
{
    auto it = topics_.find(topic);
    if (it == topics_.end())
        return {};
    return {it->second.by_client.size(), it->second.users.size() + it->second.anonymous};
}

presence_member const* presence_store::find(std::string const& topic, std::string const& client) const
{
    auto it = topics_.find(topic);
    if (it == topics_.end())
        return nullptr;
    auto m = it->second.by_client.find(client);
    return m == it->second.by_client.end() ? nullptr : &m->second;
}

}  // namespace switchboard::detail
