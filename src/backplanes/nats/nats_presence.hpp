#pragma once
// Presence over NATS (backplane::presence_*): every node keeps every node's members in memory, learnt from what
// each node says on core NATS, and answers snapshots and counts from that copy. See presence_wire.hpp for the
// messages and docs/scaling.md ("Presence across nodes") for what it costs.
//
// - Each node owns the members of its own channels and tells the others on "<prefix>.presence.<node>": a join,
//   a leave. Every node subscribes to "<prefix>.presence.*" and applies what it hears to its copy, handing each
//   change to its hub as the event; its own joins and leaves it applies at once (a snapshot right after a join
//   lists it). One subscription for everything a node says: NATS keeps one publisher's messages in order on
//   it, so a heartbeat or a page of members is read after every join and leave sent before it.
// - Liveness: each node sends a heartbeat every third of presence_expiry with its member count and a digest of
//   its members (presence_wire.hpp). A node not heard for presence_expiry is dead: every other node removes its
//   members and hands their leave events to its own hub, so no leave is lost and no ghost stays.
// - Repair: core NATS may drop messages (a slow consumer, a reconnect). A heartbeat whose count or digest is not
//   what a node holds for its sender makes that node ask the sender for all its members ("w"); the sender sends
//   them in pages, all in one loop turn (so no join or leave of its own comes between), and the asking node
//   replaces what it held for the sender with them, handing the differences to its hub as joins and leaves.
//   A node that (re)connects asks every node; its own members reach the others through the same repair, since
//   its first heartbeat does not match what they hold.
// - While NATS is unreachable a join is refused (error::backplane_unavailable, as Redis does) and no node is
//   declared dead: when the link is back, every node gets a full expiry to be heard again.
// - max_members is checked against this node's copy: joins on two nodes at the same moment may both pass it.
//
// Thread-safety: loop thread only.

#include <switchboard/backplane.hpp>

#include "backplanes/nats/nats_link.hpp"
#include "backplanes/nats/presence_wire.hpp"
#include "backplanes/presence_store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace switchboard::nats {

class nats_presence {
public:
    using deliver_function = std::function<void(presence_event_ptr const&)>;

    /// Bytes of entries in one page of members: well under NATS' default max_payload (1 MB).
    static constexpr std::size_t page_bytes = 64 * 1024;

    /// `link` must outlive it. `node`: this node's id (a subject token). `expiry`: at least 30 ms (less is raised).
    nats_presence(boost::asio::any_io_executor ex, nats_link& link, std::string const& prefix, std::string node,
                  std::chrono::milliseconds expiry, deliver_function deliver);

    /// Subscribes and starts the heartbeat timer.
    void start();
    /// The link came up (true, also after a reconnect) or went down.
    void on_link(bool up);
    void close();

    void join(std::string const& topic, presence_member member, std::size_t max_members,
              backplane::presence_handler done);
    void leave(std::string const& topic, std::string const& client);
    void members(std::string const& topic, std::string const& after, std::size_t limit,
                 backplane::presence_page_handler done) const;
    void stats(std::string const& topic, backplane::presence_counts_handler done) const;
    /// This node's own members, and the topics they are in.
    presence_totals size() const noexcept { return {own_.members.size(), own_topics_.size()}; }
    /// Other nodes this node hears (for tests).
    std::size_t known_nodes() const noexcept { return nodes_.size(); }

private:
    using clock = std::chrono::steady_clock;
    // The members one node owns, as "<client> <topic>" (client ids have no space), and their digest.
    struct member_set {
        std::unordered_set<std::string> members;
        std::uint64_t digest = 0;
        bool add(std::string const& client, std::string const& topic);
        bool remove(std::string const& client, std::string const& topic);
        static std::pair<std::string_view, std::string_view> split(std::string const& key);
    };
    struct node_view {
        member_set set;
        clock::time_point heard;
        std::optional<clock::time_point> asked;  // when its members were asked for, until they come
        std::vector<presence_entry> pages;       // the members of an answer being read, page by page
        std::optional<std::size_t> next_page;    // the page expected next; none: not reading one
    };

    void on_message(natsMsg* m);
    void on_join(node_view& n, presence_entry e);
    void on_leave(node_view& n, std::string const& client, std::string const& topic);
    void on_heartbeat(std::string const& node, node_view& n, std::string_view rest);
    void on_page(node_view& n, std::string_view rest);
    void replace(node_view& n, std::vector<presence_entry> members);
    void drop(node_view& n);
    void ask(std::string const& node, node_view& n);
    void send_members_soon(std::string to);
    void send_members();
    void send(std::string const& payload);
    void heartbeat();
    std::chrono::milliseconds period() const noexcept;
    void schedule();
    void tick();

    boost::asio::any_io_executor ex_;
    nats_link& link_;
    std::string wildcard_;  // "<prefix>.presence.*"
    std::string subject_;   // "<prefix>.presence.<node>": where this node speaks
    std::string node_;
    std::chrono::milliseconds expiry_;
    deliver_function deliver_;
    detail::presence_store store_;  // every node's members, this one's included
    member_set own_;
    std::unordered_map<std::string, std::size_t> own_topics_;  // this node's members per topic
    std::unordered_map<std::string, node_view> nodes_;           // the other nodes heard, by id
    std::optional<std::string> members_for_;                     // a page-by-page answer due ("*": to every node)
    std::uint64_t subscription_ = 0;
    boost::asio::steady_timer timer_;
    bool up_ = false;  // the link, as on_link was last told
    bool closed_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace switchboard::nats
