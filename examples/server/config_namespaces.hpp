#pragma once
// The "namespaces" key: {"NAME": {options}} into server_options::namespaces, each namespace's "history" into a
// history_options::overrides rule for the prefix "NAME:". Apart from the key table because a namespace is a
// section of its own, checked whole.

#include "config.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace switchboard_server {

// Every namespace's errors are reported, named by their path ("namespaces.chat.publish"); the namespaces are
// taken only if all are right. A history rule that leaves out max_messages or max_age takes the server-wide
// value, so apply this after those keys and after history.overrides.
void apply_namespaces(nlohmann::json const& value, std::string const& origin, switchboard::server_options& server,
                      std::vector<config_error>& errors);

}  // namespace switchboard_server
