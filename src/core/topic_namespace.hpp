#pragma once
// Which namespace (server_options::namespaces) a topic or a pattern falls under: the text before its first ':'.
// Read by the authorizer (who may subscribe and publish), the proxy hooks (whose URL), presence (on or off) and
// the join and leave events' delivery.

#include <switchboard/server_options.hpp>

#include <string_view>
#include <vector>

namespace switchboard::detail {

struct namespace_match {
    enum class kind {
        plain,    // no ':' (or no namespace configured): the server-wide options
        known,    // `options` is its namespace's
        unknown,  // a namespace, `name`, that the server is not configured with
        any,      // a pattern whose wildcard comes before any ':': it may reach topics of every namespace
    };
    kind what = kind::plain;
    namespace_options const* options = nullptr;
    std::string_view name;  // the text before ':' (known and unknown)
};

/// The namespace of `topic` (or of a pattern when `pattern`) among `namespaces`. Linear in their number: a
/// configuration has a handful.
namespace_match match_namespace(std::vector<namespace_options> const& namespaces, std::string_view topic,
                                bool pattern = false) noexcept;

/// The options of `topic`'s namespace, or null (no namespace, or an unknown one).
inline namespace_options const* find_namespace(std::vector<namespace_options> const& namespaces,
                                               std::string_view topic) noexcept
{
    return match_namespace(namespaces, topic).options;
}

}  // namespace switchboard::detail
