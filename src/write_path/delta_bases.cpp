#include "write_path/delta_bases.hpp"

#include <utility>

namespace switchboard::detail {

void delta_bases::follow(std::string const& topic)
{
    last_[topic] = nullptr;
}

void delta_bases::forget(std::string_view topic)
{
    if (auto it = last_.find(topic); it != last_.end())
        last_.erase(it);
}

message_ptr delta_bases::advance(message_ptr const& m)
{
    auto it = last_.find(m->topic());
    if (it == last_.end())
        return nullptr;
    auto previous = std::exchange(it->second, m);
    if (previous && previous->epoch() == m->epoch() && previous->offset() + 1 == m->offset())
        return previous;
    return nullptr;
}

}  // namespace switchboard::detail
