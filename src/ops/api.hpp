#pragma once
// The server API's operations (docs/server-api.md), shared by the HTTP routes (ops/api_routes.hpp) and the C++
// server object: broadcast and history go through the backplane (so they reach the cluster); a user's channels,
// disconnects, unsubscribes and topic counts are this node's, every loop of the process (server::set_loops)
// answering for its own channels. Every call runs on the loop thread and calls `done` there, once.

#include "server_context.hpp"

#include <switchboard/publish_options.hpp>
#include <switchboard/server_api.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::detail {

/// Topics one broadcast may name: more are refused whole with error::too_many_topics.
inline constexpr std::size_t max_broadcast_topics = 1000;

/// Publishes `data` (JSON text that passed payload_problem, or a binary payload) to each of `topics`, as
/// server::publish_text does to one (trusted: no hook, no authorization), each with `options` (an idempotency
/// key is scoped per topic: a retried broadcast publishes none twice). One result per topic, in their order.
void broadcast(server_context& ctx, std::vector<std::string> const& topics, std::string const& data,
               publish_options const& options, std::function<void(std::vector<broadcast_result>)> done);

/// Runs `visit` on every loop of the process (this one alone when it is the only one), then `done` here.
void on_every_loop(server_context& ctx, server_context::loop_visit visit, std::function<void()> done);

/// The open client channels of `user` on every loop.
void channels_of_user(server_context& ctx, std::string user, std::function<void(std::vector<channel_info>)> done);
/// Closes the channels of `user`, or the channel `id`, with `reason`, on every loop; `done` gets how many.
void disconnect_user(server_context& ctx, std::string user, disconnect reason, std::function<void(std::size_t)> done);
void disconnect_channel(server_context& ctx, std::uint64_t id, disconnect reason,
                        std::function<void(std::size_t)> done);
/// Unsubscribes the channel `id` from `topic` (a topic or a pattern), as its own unsubscribe would (the
/// on_unsubscribe hook runs, presence is left); `done` gets 1, or 0 when no channel `id` held it. The client is
/// not told: the protocol has no frame for it yet.
void unsubscribe_channel(server_context& ctx, std::uint64_t id, std::string topic,
                         std::function<void(std::size_t)> done);
/// Topics with subscribers, each with their count summed over the loops; most subscribers first.
void topics(server_context& ctx, std::function<void(std::vector<topic_count>)> done);

}  // namespace switchboard::detail
