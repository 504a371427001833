#include "backplanes/nats/nats_presence.hpp"

#include <switchboard/error.hpp>

#include "backplanes/nats/presence_wire.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <unordered_set>
#include <utility>

namespace switchboard::nats {

namespace {

std::string key_of(std::string_view client, std::string_view topic)
{
    std::string k;
    k.reserve(client.size() + topic.size() + 1);
    k += client;
    k += ' ';
    k += topic;
    return k;
}

}  // namespace

bool nats_presence::member_set::add(std::string const& client, std::string const& topic)
{
    if (!members.insert(key_of(client, topic)).second)
        return false;
    digest ^= member_hash(client, topic);
    return true;
}

bool nats_presence::member_set::remove(std::string const& client, std::string const& topic)
{
    if (members.erase(key_of(client, topic)) == 0)
        return false;
    digest ^= member_hash(client, topic);
    return true;
}

std::pair<std::string_view, std::string_view> nats_presence::member_set::split(std::string const& key)
{
    std::string_view const k = key;
    auto const space = k.find(' ');
    return {k.substr(0, space), k.substr(space + 1)};
}

nats_presence::nats_presence(boost::asio::any_io_executor ex, nats_link& link, std::string const& prefix,
                             std::string node, std::chrono::milliseconds expiry, deliver_function deliver)
    : ex_(ex),
      link_(link),
      wildcard_(prefix + ".presence.*"),
      subject_(prefix + ".presence." + node),
      node_(std::move(node)),
      expiry_(std::max(expiry, std::chrono::milliseconds(30))),
      deliver_(std::move(deliver)),
      timer_(ex)
{
}

void nats_presence::start()
{
    subscription_ = link_.subscribe(wildcard_, [this](natsMsg* m) { on_message(m); });
    schedule();
}

void nats_presence::close()
{
    if (closed_)
        return;
    closed_ = true;
    timer_.cancel();
    if (subscription_)
        link_.unsubscribe(std::exchange(subscription_, 0));
}

// ---- this node's members ----

void nats_presence::join(std::string const& topic, presence_member member, std::size_t max_members,
                         backplane::presence_handler done)
{
    // Refused while NATS is away, as on Redis: the other nodes could not hear of the member.
    if (closed_ || !link_.connected())
        return done(make_error_code(error::backplane_unavailable));
    auto answer = store_.join(topic, std::move(member), max_members);
    if (answer.ec || !answer.event)
        return done(answer.ec);  // refused, or present already (no event)
    auto const& m = answer.event->member();
    own_.add(m.client, topic);
    ++own_topics_[topic];
    std::string said = "j ";
    append_entry(said, topic, m);
    send(said);
    deliver_(answer.event);
    done({});
}

void nats_presence::leave(std::string const& topic, std::string const& client)
{
    if (!own_.remove(client, topic))
        return;
    if (auto t = own_topics_.find(topic); t != own_topics_.end() && --t->second == 0)
        own_topics_.erase(t);
    // Not sent (NATS away): the other nodes' next heartbeat check finds the digest changed and asks again.
    send("l " + key_of(client, topic));
    if (auto e = store_.leave(topic, client))
        deliver_(e);
}

void nats_presence::members(std::string const& topic, std::string const& after, std::size_t limit,
                            backplane::presence_page_handler done) const
{
    done({}, store_.members(topic, after, limit));
}

void nats_presence::stats(std::string const& topic, backplane::presence_counts_handler done) const
{
    done({}, store_.counts(topic));
}

void nats_presence::send(std::string const& payload)
{
    (void)link_.publish(subject_, payload);
}

// ---- what the other nodes say ----

void nats_presence::on_message(natsMsg* m)
{
    if (closed_)
        return;
    auto const subject = msg_subject(m);
    auto const node = subject.substr(std::min(subject.size(), wildcard_.size() - 1));
    if (node == node_)
        return;  // this node's own, applied when it said it
    auto data = msg_data(m);
    if (data.size() < 2 || data[1] != ' ' || node.empty()) {
        spdlog::warn("nats: malformed presence message on {}", subject);
        return;
    }
    auto const kind = data[0];
    data.remove_prefix(2);
    if (kind == 'w') {
        if (data == node_ || data == "*")
            send_members_soon(std::string(node));
        return;
    }
    auto [it, fresh] = nodes_.try_emplace(std::string(node));
    auto& n = it->second;
    n.heard = clock::now();
    if (fresh)
        spdlog::info("nats: presence of node {} heard", it->first);
    switch (kind) {
    case 'j':
        if (auto e = read_entry(data); e && data.empty())
            return on_join(n, std::move(*e));
        break;
    case 'l': {
        auto const client = read_field(data);
        if (!client.empty() && !data.empty())
            return on_leave(n, std::string(client), std::string(data));
        break;
    }
    case 'h':
        return on_heartbeat(it->first, n, data);
    case 'd':
        return on_page(n, data);
    default:
        break;
    }
    spdlog::warn("nats: malformed presence message on {}", subject);
}

void nats_presence::on_join(node_view& n, presence_entry e)
{
    auto const& client = e.member.client;
    if (!n.set.add(client, e.topic))
        return;  // known already
    auto answer = store_.join(e.topic, e.member, std::numeric_limits<std::size_t>::max());
    if (!answer.event) {
        n.set.remove(client, e.topic);  // the client id is another node's (or this one's) already
        return;
    }
    deliver_(answer.event);
}

void nats_presence::on_leave(node_view& n, std::string const& client, std::string const& topic)
{
    if (!n.set.remove(client, topic))
        return;
    if (auto e = store_.leave(topic, client))
        deliver_(e);
}

void nats_presence::on_heartbeat(std::string const& node, node_view& n, std::string_view rest)
{
    auto const count = number_of(read_field(rest));
    auto const digest = number_of(rest);
    if (!count || !digest) {
        spdlog::warn("nats: malformed presence heartbeat from node {}", node);
        return;
    }
    if (n.set.members.size() == *count && n.set.digest == *digest) {
        n.asked.reset();
        return;
    }
    // What this node holds of `node` differs from what it says it has: messages were lost. Asked once per two
    // heartbeat periods, so an answer in flight is not asked for again.
    if (!n.asked || clock::now() - *n.asked >= 2 * period())
        ask(node, n);
}

void nats_presence::ask(std::string const& node, node_view& n)
{
    n.asked = clock::now();
    send("w " + node);
}

void nats_presence::on_page(node_view& n, std::string_view rest)
{
    auto const to = read_field(rest);
    auto const total = number_of(read_field(rest));
    auto const page = number_of(read_field(rest));
    auto const last = number_of(read_field(rest));
    if (to != node_ && to != "*")
        return;  // asked for by another node
    // An answer is kept whole or not at all: the next heartbeat that does not match asks again.
    auto abandon = [&n] {
        n.next_page.reset();
        n.pages = {};
    };
    if (!total || !page || !last) {
        abandon();
        return spdlog::warn("nats: malformed presence page");
    }
    if (*page == 0) {
        n.pages.clear();
        n.next_page = 0;
    }
    if (n.next_page != page)
        return abandon();  // a page was lost
    while (!rest.empty()) {
        auto e = read_entry(rest);
        if (!e || n.pages.size() == *total) {  // not an entry, or more than it said
            abandon();
            return spdlog::warn("nats: malformed presence page");
        }
        n.pages.push_back(std::move(*e));
    }
    ++*n.next_page;
    if (*last == 0)
        return;
    auto members = std::exchange(n.pages, {});
    n.next_page.reset();
    if (members.size() == *total)
        replace(n, std::move(members));
}

// The node's members are `members` now: the ones no longer there leave, then the new ones join.
void nats_presence::replace(node_view& n, std::vector<presence_entry> members)
{
    std::unordered_set<std::string> now;
    now.reserve(members.size());
    for (auto const& e : members)
        now.insert(key_of(e.member.client, e.topic));
    std::vector<std::string> gone;
    for (auto const& key : n.set.members)
        if (!now.contains(key))
            gone.push_back(key);
    for (auto const& key : gone) {
        auto const [client, topic] = member_set::split(key);
        on_leave(n, std::string(client), std::string(topic));
    }
    for (auto& e : members)
        on_join(n, std::move(e));  // no event for the ones held already
    n.asked.reset();
}

void nats_presence::drop(node_view& n)
{
    for (auto const& key : std::exchange(n.set.members, {})) {
        auto const [client, topic] = member_set::split(key);
        if (auto e = store_.leave(std::string(topic), std::string(client)))
            deliver_(e);
    }
    n.set.digest = 0;
}

// ---- this node's answers and heartbeats ----

void nats_presence::send_members_soon(std::string to)
{
    bool const due = members_for_.has_value();
    members_for_ = !due || *members_for_ == to ? std::move(to) : std::string("*");
    if (due)
        return;  // one answer for every ask of this turn
    boost::asio::post(ex_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock() && !closed_)
            send_members();
    });
}

// Every page in this one turn: no join or leave of this node comes between them on the wire.
void nats_presence::send_members()
{
    auto const to = std::exchange(members_for_, std::nullopt).value_or("*");
    if (!link_.connected())
        return;  // asked again after the asking node's next heartbeat check
    std::vector<std::string> pages;
    std::string entries;
    auto close_page = [&] { pages.push_back(std::exchange(entries, {})); };
    for (auto const& key : own_.members) {
        auto const [client, topic] = member_set::split(key);
        auto const* m = store_.find(std::string(topic), std::string(client));
        if (!m)
            continue;  // cannot happen: own_ and store_ change together
        append_entry(entries, topic, *m);
        if (entries.size() >= page_bytes)
            close_page();
    }
    if (!entries.empty() || pages.empty())
        close_page();
    auto const total = std::to_string(own_.members.size());
    for (std::size_t i = 0; i < pages.size(); ++i)
        send("d " + to + " " + total + " " + std::to_string(i) + " " + (i + 1 == pages.size() ? "1 " : "0 ") +
             pages[i]);
}

std::chrono::milliseconds nats_presence::period() const noexcept
{
    return expiry_ / 3;  // at least 10 ms
}

void nats_presence::heartbeat()
{
    send("h " + std::to_string(own_.members.size()) + " " + std::to_string(own_.digest));
}

void nats_presence::on_link(bool up)
{
    up_ = up;
    if (closed_ || !up)
        return;
    // Back (or up for the first time): whatever was said meanwhile may be lost both ways. Every node gets a full
    // expiry to be heard again, and is asked for its members; this node's heartbeat makes the others ask for its.
    auto const now = clock::now();
    for (auto& [id, n] : nodes_)
        n.heard = now;
    send("w *");
    heartbeat();
}

void nats_presence::schedule()
{
    if (closed_)
        return;
    timer_.expires_after(period());
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || closed_)
            return;
        tick();
        schedule();
    });
}

void nats_presence::tick()
{
    // Not while this node is away, nor before the link's return reached on_link (cnats may say connected first):
    // nobody is taken for dead for not being heard by a node that could not hear.
    if (!up_)
        return;
    heartbeat();
    auto const now = clock::now();
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (now - it->second.heard <= expiry_) {
            ++it;
            continue;
        }
        spdlog::warn("nats: presence node {} not heard for {} ms: its {} members leave", it->first, expiry_.count(),
                     it->second.set.members.size());
        drop(it->second);
        it = nodes_.erase(it);
    }
}

}  // namespace switchboard::nats
