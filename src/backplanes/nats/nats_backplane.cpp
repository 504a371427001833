// The public NATS backplane: the JetStream engine (jetstream_backplane.hpp) behind switchboard's backplane
// interface. Its errors reach callers as error::backplane_unavailable; the reason goes to the log.

#include <switchboard/error.hpp>
#include <switchboard/nats_backplane.hpp>

#include "backplanes/nats/jetstream_backplane.hpp"
#include "backplanes/nats/nats_presence.hpp"

#include "core/epoch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace switchboard {

namespace {

nats::link_options link_options_of(nats_options const& o)
{
    nats::link_options l;
    l.url = o.url;
    l.ca_file = o.tls_ca_file;
    l.name = "switchboard";  // as the server shows the connection (connz) and logs it
    l.connect_timeout = o.connect_timeout;
    l.reconnect_wait = o.reconnect_wait;
    l.reconnect_jitter = o.reconnect_wait;
    l.request_timeout = o.request_timeout;
    return l;
}

nats::jetstream_options jetstream_options_of(nats_options const& o)
{
    nats::jetstream_options j;
    j.prefix = o.prefix;
    j.stream = o.stream;
    j.storage = o.storage;
    j.replicas = static_cast<int>(o.replicas);
    j.position_ttl = o.position_ttl;
    j.max_bytes = o.max_bytes == 0 ? -1 : static_cast<std::int64_t>(o.max_bytes);
    j.manage_stream = o.manage_stream;
    j.max_pending_publishes = o.max_pending;
    j.max_held = o.max_held;
    j.recent_bytes = o.recent_bytes;
    j.max_pattern_topics = o.max_pattern_topics;
    return j;
}

/// Every failure is "the backplane cannot do it now" to callers; why is logged unless it is the obvious one
/// (NATS down, already logged by the link) or the caller's own doing (overload, close).
boost::system::error_code unavailable(boost::system::error_code ec, char const* what)
{
    if (ec != nats::nats_error::not_connected && ec != nats::nats_error::overloaded && ec != nats::nats_error::closed)
        spdlog::warn("nats: {} failed: {}", what, ec.message());
    return make_error_code(error::backplane_unavailable);
}

}  // namespace

void check_nats_url(std::string_view url)
{
    if (url.empty())
        throw std::invalid_argument("no URL");
    for (std::size_t start = 0; start <= url.size();) {
        auto const end = std::min(url.find(',', start), url.size());
        auto const one = url.substr(start, end - start);
        auto const scheme = one.find("://");
        if (scheme == std::string_view::npos || (one.substr(0, scheme) != "nats" && one.substr(0, scheme) != "tls"))
            throw std::invalid_argument("each URL must start with nats:// or tls://");
        auto host = one.substr(scheme + 3);
        if (auto const at = host.rfind('@'); at != std::string_view::npos)
            host = host.substr(at + 1);  // user:password@ or token@
        if (host.empty() || host.front() == ':' || host.find_first_of(" /?#") != std::string_view::npos)
            throw std::invalid_argument("each URL needs a host (and only host:port after it)");
        start = end + 1;
    }
}

bool is_valid_nats_prefix(std::string_view prefix) noexcept
{
    return nats::is_valid_prefix(prefix);
}

struct nats_backplane::impl {
    impl(boost::asio::any_io_executor ex, nats_options const& o, history_options h, nats_backplane& self)
        : engine(ex, link_options_of(o), jetstream_options_of(o), std::move(h)),
          presence(ex, engine.link(), o.prefix, node_id(), o.presence_expiry,
                   [&self](presence_event_ptr const& e) { self.deliver_presence(e); })
    {
    }
    static std::string node_id()
    {
        std::mt19937_64 random(std::random_device{}());
        return detail::random_epoch(random);
    }
    nats::jetstream_backplane engine;
    nats::nats_presence presence;  // after the engine: it speaks on the engine's link
};

nats_backplane::nats_backplane(boost::asio::any_io_executor ex, nats_options options, history_options history)
    : impl_((check_nats_url(options.url), std::make_unique<impl>(ex, options, std::move(history), *this)))
{
    impl_->engine.set_delivery([this](message_ptr const& m) { deliver(m); });
    impl_->engine.set_gap([this](std::string const& topic) { report_gap(topic); });
    impl_->engine.set_link_observer([this](bool up) { impl_->presence.on_link(up); });
    impl_->presence.start();
}

nats_backplane::~nats_backplane()
{
    impl_->presence.close();
}

void nats_backplane::publish(std::string topic, std::string data, publish_options options, publish_handler done)
{
    impl_->engine.publish(std::move(topic), std::move(data), std::move(options.idempotency_key),
                          [done = std::move(done)](boost::system::error_code ec, position where) {
                              if (ec)
                                  return done(unavailable(ec, "publish"), {});
                              done({}, std::move(where));
                          });
}

void nats_backplane::history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                             history_handler done)
{
    impl_->engine.history(topic, since, max_bytes,
                          [done = std::move(done)](boost::system::error_code ec, history_result r) {
                              if (ec)
                                  return done(unavailable(ec, "history read"), {});
                              done({}, std::move(r));
                          });
}

void nats_backplane::pattern_history(std::string const& pattern, std::optional<position> const& since,
                                     std::size_t max_bytes, std::size_t max_topics, pattern_history_handler done)
{
    impl_->engine.pattern_history(pattern, since, max_bytes, max_topics,
                                  [done = std::move(done)](boost::system::error_code ec, pattern_history_result r) {
                                      if (ec == error::too_many_topics)
                                          return done(ec, {});  // the caller's bound, not the backplane's state
                                      if (ec)
                                          return done(unavailable(ec, "pattern history read"), {});
                                      done({}, std::move(r));
                                  });
}

void nats_backplane::subscribe(std::string const& topic)
{
    impl_->engine.subscribe(topic);
}

void nats_backplane::unsubscribe(std::string const& topic)
{
    impl_->engine.unsubscribe(topic);
}

void nats_backplane::subscribe_pattern(std::string const& pattern)
{
    impl_->engine.subscribe_pattern(pattern);
}

void nats_backplane::unsubscribe_pattern(std::string const& pattern)
{
    impl_->engine.unsubscribe_pattern(pattern);
}

void nats_backplane::pattern_ready(std::string const& pattern, ready_handler done)
{
    impl_->engine.pattern_ready(pattern, [done = std::move(done)](boost::system::error_code ec) {
        done(ec ? unavailable(ec, "pattern subscription") : ec);
    });
}

std::size_t nats_backplane::subscribed_patterns() const noexcept
{
    return impl_->engine.subscribed_patterns();
}

std::size_t nats_backplane::pattern_topics() const noexcept
{
    return impl_->engine.pattern_topics();
}

std::optional<position> nats_backplane::delivered(std::string const& topic) const
{
    return impl_->engine.delivered(topic);
}

void nats_backplane::presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                                   presence_handler done)
{
    impl_->presence.join(topic, std::move(member), max_members, std::move(done));
}

void nats_backplane::presence_leave(std::string const& topic, std::string const& client)
{
    impl_->presence.leave(topic, client);
}

void nats_backplane::presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                                      presence_page_handler done)
{
    impl_->presence.members(topic, after, limit, std::move(done));
}

void nats_backplane::presence_stats(std::string const& topic, presence_counts_handler done)
{
    impl_->presence.stats(topic, std::move(done));
}

std::optional<presence_totals> nats_backplane::presence_size() const
{
    return impl_->presence.size();
}

void nats_backplane::close()
{
    impl_->presence.close();
    impl_->engine.close();
}

bool nats_backplane::connected() const noexcept
{
    return impl_->engine.connected();
}

void nats_backplane::set_history_options(history_options options)
{
    impl_->engine.set_history(std::move(options));
}

std::size_t nats_backplane::subscribed_topics() const noexcept
{
    return impl_->engine.subscribed_topics();
}

}  // namespace switchboard
