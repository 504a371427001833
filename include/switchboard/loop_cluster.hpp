#pragma once
// Several loops of one process as the nodes of one cluster, joined in memory as Redis joins processes. One
// loop_cluster per process holds the memory backplane's state (positions, sequence, history, bounds) behind a
// mutex; node(executor) makes the backplane of one loop. Every message takes the one path:
//
//   publish on any loop -> the cluster assigns offset and sequence, appends history (under its lock)
//     -> the inbox of every node with a subscriber of the topic or a pattern matching it, in that order
//     -> each node's loop delivers to its hub with no lock
//
// A topic's messages reach every subscribed node in offset order whichever thread published them: they enter
// each node's inbox under the cluster's lock. A node's answers (publish positions, history, pattern history) go
// through the same inbox, so a history answer comes after every message published before the read: a
// subscriber joining with it takes over from the node's stream exactly where the history ends.
//
// Budgets are the cluster's: history_options bounds (max_bytes, max_topics, max_topics_per_client) hold across
// every loop. A node receives the topics its hub subscribed it to (backplane::subscribe, under the cluster's lock
// before the join's history read) and those its patterns match: a loop with no subscriber of a topic is not
// handed its messages at all.
//
// Thread-safety: node(), set_history_options(), topic_count() and history_bytes() from any thread. Each node
// is a backplane like any other: used on its loop's thread only, and destroyed there or once its loop stopped.
// Nodes and the cluster may be destroyed in any order.
//
// Usage (docs/scaling.md): one io_context and one server per thread, each built with a node of one cluster:
//
//   switchboard::loop_cluster cluster(options.history);
//   for (auto& ioc : loops)
//       servers.push_back(std::make_unique<switchboard::server>(ioc, options, cluster.node(ioc.get_executor())));

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace switchboard {

namespace detail {
struct cluster_state;
}

class loop_cluster {
public:
    explicit loop_cluster(history_options options = {});
    ~loop_cluster();
    loop_cluster(loop_cluster const&) = delete;
    loop_cluster& operator=(loop_cluster const&) = delete;

    /// A backplane for the loop running `ex` (one thread): its handlers run there. Any number of nodes.
    std::unique_ptr<backplane> node(boost::asio::any_io_executor ex);

    /// New history limits for every topic (what a node's set_history_options does too).
    void set_history_options(history_options options);
    /// Topics with state, and history held across topics (history_options::max_bytes counts it).
    std::size_t topic_count() const;
    std::size_t history_bytes() const;
    /// Nodes receiving messages (made and not yet closed).
    std::size_t node_count() const;
    /// Nodes a message of `topic` would be handed to now: those subscribed to it or following a pattern it matches.
    std::size_t nodes_receiving(std::string_view topic) const;

private:
    std::shared_ptr<detail::cluster_state> state_;
};

}  // namespace switchboard
