#pragma once
// Presence over Redis (backplane::presence_*): the members of each topic live in Redis, shared by every node,
// each member owned by the node its channel is on. See redis_scripts.hpp for the keys and docs/scaling.md
// ("Presence across nodes") for what it costs.
//
// - Join, leave, a page of members and the counts are each one script, so a topic's members, its user counts
//   and the expiry index change together. A join or leave that changed something publishes its event on the
//   presence channel, in the same script: every node (this one too) receives it on its pub/sub connection and
//   hands it to its hub (on_event), once, in the order Redis ran the scripts.
// - Liveness: every member has an expiry in a shared sorted set, Redis' time + presence_expiry. The owning node
//   pushes its members' expiries back every third of it (refresh: its members in batches of `batch`, all the
//   batches pipelined in one turn); every node sweeps every third of it (sweep: expired members removed and their
//   leave events published, `batch` at a time, atomically, so each is removed by one node only). A node that
//   dies stops refreshing: its members leave within presence_expiry plus one sweep period.
// - A member the node still holds but Redis no longer has (swept while the node was stalled past the expiry, or
//   Redis lost its data) is joined again at the next refresh: its node's view and every other's agree again.
//
// Thread-safety: loop thread only.

#include <switchboard/backplane.hpp>
#include <switchboard/redis_backplane.hpp>

#include "backplanes/redis/redis_codec.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct redisReply;

namespace switchboard::redis {

class redis_connection;

class redis_presence {
public:
    /// EVALSHA with the EVAL fallback (the backplane's); false when the command cannot be sent now.
    using eval_function = std::function<bool(std::string const& sha, std::string_view script, std::size_t keys,
                                             std::vector<std::string> args, std::function<void(redisReply const*)>)>;
    using deliver_function = std::function<void(presence_event_ptr const&)>;

    /// Members refreshed, or expired members swept, by one script call: what bounds the time one call holds Redis.
    static constexpr std::size_t batch = 1'000;

    /// `names` and `options` must outlive it. `node`: this node's id, kept in its members' records.
    redis_presence(boost::asio::any_io_executor ex, redis_names const& names, redis_options const& options,
                   std::string node, eval_function eval, deliver_function deliver);

    /// Queues SCRIPT LOAD for the presence scripts on `c` (set-up); `failed` says whether a reply is a failure.
    void load_scripts(redis_connection& c, std::function<bool(redisReply const*)> failed);
    /// Starts the refresh and sweep timers.
    void start();
    void close();

    void join(std::string const& topic, presence_member member, std::size_t max_members,
              backplane::presence_handler done);
    void leave(std::string const& topic, std::string const& client);
    void members(std::string const& topic, std::string const& after, std::size_t limit,
                 backplane::presence_page_handler done);
    void stats(std::string const& topic, backplane::presence_counts_handler done);
    /// This node's members, and the topics they are in.
    presence_totals size() const noexcept { return {owned_.size(), topics_.size()}; }

    /// The pub/sub channel every node subscribes to for presence events. Not a topic's channel: '#' is no topic
    /// character, and the backplane checks for it before it reads a channel as a topic.
    std::string const& channel() const noexcept { return channel_; }
    /// A message on channel().
    void on_event(std::string_view payload);

private:
    struct owned {
        std::string topic;
        presence_member member;
        std::uint64_t join = 0;  // which join made it (a refused join forgets only its own)
    };

    std::vector<std::string> keys(std::string const& topic) const;
    void send_join(std::string const& entry, owned const& o, std::size_t max_members, backplane::presence_handler done);
    void forget(std::unordered_map<std::string, owned>::iterator it);
    void schedule();
    void refresh();
    void sweep();

    redis_names const& names_;
    redis_options const& options_;
    std::string node_;
    eval_function eval_;
    deliver_function deliver_;
    std::string channel_;
    std::string expiry_key_;
    std::string join_sha_, leave_sha_, members_sha_, stats_sha_, refresh_sha_, sweep_sha_;
    std::unordered_map<std::string, owned> owned_;           // "<client><topic>" (the expiry entry) -> member
    std::unordered_map<std::string, std::size_t> topics_;    // this node's members per topic
    std::uint64_t joins_ = 0;
    boost::asio::steady_timer timer_;
    bool sweeping_ = false;
    bool closed_ = false;
};

}  // namespace switchboard::redis
