#pragma once
// Everything of switchboard's public API in one include, with the Asio and nlohmann/json headers its calls need.
// Convenient for a program's main file; elsewhere include only what is used (<switchboard/server.hpp> is cheap
// on purpose).

#include <switchboard/backplane.hpp>
#include <switchboard/channel.hpp>
#include <switchboard/cursor.hpp>
#include <switchboard/disconnect.hpp>
#include <switchboard/error.hpp>
#include <switchboard/history_options.hpp>
#include <switchboard/hooks.hpp>
#include <switchboard/http.hpp>
#include <switchboard/hub.hpp>
#include <switchboard/hub_view.hpp>
#include <switchboard/identity.hpp>
#include <switchboard/loop_cluster.hpp>
#include <switchboard/memory_backplane.hpp>
#include <switchboard/message.hpp>
#include <switchboard/position.hpp>
#include <switchboard/presence.hpp>
#include <switchboard/security_options.hpp>
#include <switchboard/server.hpp>
#include <switchboard/server_api.hpp>
#include <switchboard/server_options.hpp>
#include <switchboard/subscription.hpp>
#include <switchboard/topic.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>
