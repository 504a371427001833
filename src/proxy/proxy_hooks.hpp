#pragma once
// The proxy hooks (proxy_options.hpp): each step the options name a URL for becomes a hook that asks the
// backend through backend_client and turns its answer into the hook's answer. Installed by the server at
// start, around the application's own hooks: a step with a URL is the backend's to decide, the others stay
// with the C++ hooks. Requests and answers: docs/integration.md.
#include <switchboard/hooks.hpp>
#include <switchboard/proxy_options.hpp>
#include <switchboard/server_options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <vector>

namespace switchboard::detail {

/// True when `options` or one of `namespaces` names at least one URL.
bool proxy_configured(proxy_options const& options, std::vector<namespace_options> const& namespaces) noexcept;

/// Sets the hooks of `h` for every step `options` names a URL for; a namespace's subscribe_url and publish_url
/// take its topics (and patterns under it) in place of the server's. Throws std::invalid_argument naming the
/// key whose URL cannot be used.
void install_proxy_hooks(hooks& h, proxy_options const& options, std::vector<namespace_options> const& namespaces,
                         boost::asio::any_io_executor ex);

}  // namespace switchboard::detail
