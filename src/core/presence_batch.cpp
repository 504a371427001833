#include "core/presence_batch.hpp"

namespace switchboard::detail {

std::size_t presence_batch::add(presence_event const& e)
{
    auto& b = topics_[e.topic()];
    bool const join = e.type() == presence_event::kind::join;
    auto [it, first] = b.index.try_emplace(e.member().client, b.changes.size());
    if (first) {
        auto& c = b.changes.emplace_back();
        c.was_present = !join;
        c.present = join;
        (join ? c.joined : c.left) = e.member();
        return b.changes.size();
    }
    auto& c = b.changes[it->second];
    c.present = join;
    if (join)
        c.joined = e.member();
    return b.changes.size();
}

presence_event_ptr presence_batch::diff_of(std::string const& topic, topic_batch const& b)
{
    std::vector<presence_member> leaves, joins;
    for (auto const& c : b.changes) {
        if (c.was_present)
            leaves.push_back(c.left);
        if (c.present)
            joins.push_back(c.joined);
    }
    if (leaves.empty() && joins.empty())
        return nullptr;
    return presence_event::diff(topic, leaves, joins);
}

presence_event_ptr presence_batch::take(std::string const& topic)
{
    auto it = topics_.find(topic);
    if (it == topics_.end())
        return nullptr;
    auto diff = diff_of(topic, it->second);
    topics_.erase(it);
    return diff;
}

std::vector<presence_event_ptr> presence_batch::take_all()
{
    std::vector<presence_event_ptr> out;
    for (auto const& [topic, b] : topics_)
        if (auto diff = diff_of(topic, b))
            out.push_back(std::move(diff));
    topics_.clear();
    return out;
}

}  // namespace switchboard::detail
