#include <switchboard/presence.hpp>

#include "core/presence_json.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <stdexcept>

namespace switchboard::detail {
namespace {

// "client":C,"user":U,"info":I: a member as the events and the snapshots spell it. Client ids never need
// escaping (they are hex); the user may; the info is JSON text already.
void append_member_fields(std::string& out, presence_member const& m)
{
    out += R"("client":")";
    out += m.client;
    out += R"(","user":)";
    out += nlohmann::json(m.user).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += R"(,"info":)";
    out += m.info;
}

}  // namespace
}  // namespace switchboard::detail

namespace switchboard {

presence_event::presence_event(kind k, std::string topic, presence_member member)
    : kind_(k), topic_(std::move(topic)), member_(std::move(member))
{
    // Topic names never need escaping (topic.hpp).
    std::string out;
    out.reserve(topic_.size() + member_.client.size() + member_.user.size() + member_.info.size() + 64);
    out += kind_ == kind::join ? R"({"type":"join","topic":")" : R"({"type":"leave","topic":")";
    out += topic_;
    out += "\",";
    detail::append_member_fields(out, member_);
    out += '}';
    envelope_ = std::make_shared<std::string const>(std::move(out));
}

presence_event::presence_event(kind k, std::string topic, std::string envelope)
    : kind_(k), topic_(std::move(topic)), envelope_(std::make_shared<std::string const>(std::move(envelope)))
{
}

std::shared_ptr<presence_event const> presence_event::diff(std::string topic,
                                                           std::vector<presence_member> const& leaves,
                                                           std::vector<presence_member> const& joins)
{
    std::string out = R"({"type":"presence_diff","topic":")";
    out += topic;
    out += '"';
    for (auto const& [field, members] : {std::pair{R"(,"leaves":[)", &leaves}, std::pair{R"(,"joins":[)", &joins}}) {
        out += field;
        for (std::size_t i = 0; i < members->size(); ++i) {
            out += i ? ",{" : "{";
            detail::append_member_fields(out, (*members)[i]);
            out += '}';
        }
        out += ']';
    }
    out += '}';
    return std::shared_ptr<presence_event const>(new presence_event(kind::diff, std::move(topic), std::move(out)));
}

std::shared_ptr<presence_event const> presence_event::counts(std::string topic, presence_counts const& n)
{
    auto out = detail::presence_stats_json({}, topic, n);
    return std::shared_ptr<presence_event const>(new presence_event(kind::counts, std::move(topic), std::move(out)));
}

std::string_view presence_event::name_of(kind k) noexcept
{
    switch (k) {
    case kind::join:
        return "join";
    case kind::leave:
        return "leave";
    case kind::diff:
        return "presence_diff";
    case kind::counts:
        break;
    }
    return "presence_stats";
}

std::size_t presence_event::reserve_encoding_slot()
{
    static std::atomic<std::size_t> next{0};
    std::size_t const slot = next++;
    if (slot >= encoding_slots)
        throw std::logic_error("switchboard: more presence encodings than presence_event::encoding_slots");
    return slot;
}

}  // namespace switchboard

namespace switchboard::detail {

namespace {

// {"type":T[,"id":ID],"topic":"TOPIC": how every presence answer begins. Topic names never need escaping
// (topic.hpp); `id` is JSON text already.
std::string answer_head(std::string_view type, std::string_view id, std::string_view topic)
{
    std::string out = R"({"type":")";
    out += type;
    out += '"';
    if (!id.empty()) {
        out += R"(,"id":)";
        out += id;
    }
    out += R"(,"topic":")";
    out += topic;
    out += '"';
    return out;
}

}  // namespace

std::string presence_page_json(std::string_view id, std::string_view topic, presence_page const& page)
{
    std::string out = answer_head("presence", id, topic);
    out += R"(,"members":[)";
    for (std::size_t i = 0; i < page.members.size(); ++i) {
        auto const& m = page.members[i];
        if (i)
            out += ',';
        out += '{';
        append_member_fields(out, m);
        out += '}';
    }
    out += ']';
    if (!page.next.empty()) {
        out += R"(,"next":")";
        out += page.next;
        out += '"';
    }
    out += '}';
    return out;
}

std::string presence_stats_json(std::string_view id, std::string_view topic, presence_counts const& n)
{
    std::string out = answer_head("presence_stats", id, topic);
    out += R"(,"clients":)";
    out += std::to_string(n.clients);
    out += R"(,"users":)";
    out += std::to_string(n.users);
    out += '}';
    return out;
}

}  // namespace switchboard::detail
