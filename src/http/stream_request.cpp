#include "http/stream_request.hpp"

#include "http/query.hpp"
#include "channel_services.hpp"
#include "security/namespace_rules.hpp"

#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <algorithm>
#include <iterator>

namespace switchboard::detail {

namespace {

bool topic_before(topic_position const& a, topic_position const& b)
{
    return a.topic < b.topic;
}

}  // namespace

std::optional<position> stream_request::since_for(std::string const& topic) const
{
    auto const it = std::lower_bound(since.begin(), since.end(), topic_position{topic, {}}, topic_before);
    if (it != since.end() && it->topic == topic)
        return it->where;
    return std::nullopt;
}

boost::system::error_code parse_stream_request(http_request const& req, server_options const& options,
                                               char const* cursor_param, bool use_last_event_id,
                                               stream_request& out, std::string& message)
{
    std::string_view path;
    query q;
    if (auto ec = parse_target(req.target(), path, q, max_parameters(options.max_subscriptions))) {
        message = "malformed request target, or too many parameters";
        return ec;
    }
    return parse_stream_request(req, q, options, {}, cursor_param, use_last_event_id, out, message);
}

boost::system::error_code parse_stream_request(http_request const& req, query const& q, server_options const& options,
                                               std::vector<std::string> const& server_topics, char const* cursor_param,
                                               bool use_last_event_id, stream_request& out, std::string& message)
{
    out.topics = q.all("topic");
    out.patterns = q.all("pattern");
    out.server_topics = server_topics;
    std::sort(out.server_topics.begin(), out.server_topics.end());
    out.server_topics.erase(std::unique(out.server_topics.begin(), out.server_topics.end()), out.server_topics.end());
    if (out.topics.empty() && out.patterns.empty() && out.server_topics.empty()) {
        message = "at least one ?topic= (or ?pattern=) is required";
        return error::missing_field;
    }
    if (out.topics.size() + out.patterns.size() > options.max_subscriptions) {
        message = "at most " + std::to_string(options.max_subscriptions) + " topics and patterns per request";
        return error::too_many_topics;
    }
    for (auto const& pattern : out.patterns) {
        if (auto why = pattern_problem(pattern); !why.empty()) {
            message = "invalid pattern: " + why;
            return error::invalid_pattern;
        }
    }
    std::sort(out.patterns.begin(), out.patterns.end());
    out.patterns.erase(std::unique(out.patterns.begin(), out.patterns.end()), out.patterns.end());
    for (auto const& topic : out.topics) {
        if (!is_valid_topic(topic)) {
            message = "invalid topic name";
            return error::invalid_topic;
        }
    }
    std::sort(out.topics.begin(), out.topics.end());
    out.topics.erase(std::unique(out.topics.begin(), out.topics.end()), out.topics.end());
    // The server's topics count with the client's, once each (the client may name one of them too).
    auto const granted_only = std::count_if(out.server_topics.begin(), out.server_topics.end(), [&](auto const& t) {
        return !std::binary_search(out.topics.begin(), out.topics.end(), t);
    });
    if (out.topics.size() + out.patterns.size() + static_cast<std::size_t>(granted_only) > options.max_subscriptions) {
        message = "at most " + std::to_string(options.max_subscriptions) +
                  " topics and patterns per request, the server's own subscriptions of the client included";
        return error::too_many_topics;
    }

    if (auto const* delta = q.find("delta")) {
        if (*delta != "1" && *delta != "0" && *delta != "true" && *delta != "false") {
            message = "delta is 1 (or true) or 0 (or false)";
            return error::bad_request;
        }
        out.delta = *delta == "1" || *delta == "true";
    }

    if (auto const* presence = q.find("presence")) {
        if (*presence != "1" && *presence != "0" && *presence != "true" && *presence != "false") {
            message = "presence is 1 (or true) or 0 (or false)";
            return error::bad_request;
        }
        out.presence = *presence == "1" || *presence == "true";
        if (out.presence && out.topics.empty()) {
            message = "presence is a topic's, not a pattern's: name a ?topic=";
            return error::invalid_pattern;
        }
    }
    if (auto const* resume = q.find("presence_resume")) {
        bool const hex = resume->size() == 32 && std::all_of(resume->begin(), resume->end(), [](char c) {
                             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                         });
        if (!out.presence || !hex) {
            message = "presence_resume is the resume key of a presence answer, with presence=1";
            return error::invalid_cursor;
        }
        out.presence_resume = *resume;
    }
    if (out.presence)
        for (auto const& topic : out.topics)
            if (auto off = presence_refused(options.namespaces, topic)) {
                message = off.message;
                return off.ec;
            }

    std::string_view text;
    auto const header = use_last_event_id ? req.find("Last-Event-ID") : req.end();
    if (header != req.end())
        text = header->value();
    else if (auto const* param = q.find(cursor_param))
        text = *param;
    if (auto ec = decode_cursor(text, out.since, options.max_subscriptions)) {
        message = "cursor cannot be read";
        return ec;
    }
    // Looked up once per topic: sorted, so that a request of thousands of topics costs n log n, not n^2.
    std::sort(out.since.begin(), out.since.end(), topic_before);
    return {};
}

void subscribe_topics(channel_services& services, channel& ch, stream_request const& wanted, std::size_t max_bytes,
                      std::function<void(boost::system::error_code, std::vector<topic_subscription>)> done)
{
    struct gathering {
        std::vector<topic_subscription> results;
        std::size_t remaining = 0;
        boost::system::error_code failed;
        std::function<void(boost::system::error_code, std::vector<topic_subscription>)> done;
    };
    auto state = std::make_shared<gathering>();
    state->results.resize(wanted.topics.size());
    state->remaining = wanted.topics.size();
    state->done = std::move(done);
    auto self = ch.shared_from_this();
    if (wanted.topics.empty())
        return state->done({}, {});
    std::size_t const share = max_bytes / std::max<std::size_t>(1, wanted.topics.size());
    for (std::size_t i = 0; i < wanted.topics.size(); ++i) {
        auto const& topic = wanted.topics[i];
        auto const since = wanted.since_for(topic);
        state->results[i].topic = topic;
        state->results[i].resumed = since.has_value();
        auto const& granted = wanted.server_topics;
        state->results[i].server = std::binary_search(granted.begin(), granted.end(), topic);
        // Authorized already, every topic before any is subscribed.
        services.subscribe(ch, topic, since, share, subscribe_queue::authorization::done,
                           [state, self, i](boost::system::error_code ec, history_result result) {
                               if (ec && !state->failed)
                                   state->failed = ec;
                               state->results[i].result = std::move(result);
                               if (--state->remaining != 0 || self->closing())
                                   return;
                               state->done(state->failed, std::move(state->results));
                           });
    }
}

namespace {

// Subscribes `ch` to every pattern of `wanted` at once (each authorized as a pattern, read from the cursor's
// sequence for it, the first pages sharing `max_bytes`); `done` gets, once all are answered, the first refusal
// with the pattern refused and the hook's reason (maybe empty), or every pattern's result. Not called for a channel that closed.
void subscribe_patterns(channel_services& services, channel_ptr const& ch, stream_request const& wanted,
                        std::size_t max_bytes,
                        std::function<void(boost::system::error_code, std::string const&, std::string const&,
                                           std::vector<pattern_subscription>)> done)
{
    struct gathering {
        std::vector<pattern_subscription> results;
        std::size_t remaining = 0;
        boost::system::error_code failed;
        std::string refused;
        std::string reason;
        std::function<void(boost::system::error_code, std::string const&, std::string const&,
                           std::vector<pattern_subscription>)> done;
    };
    auto state = std::make_shared<gathering>();
    state->results.resize(wanted.patterns.size());
    state->remaining = wanted.patterns.size();
    state->done = std::move(done);
    std::size_t const share = max_bytes / std::max<std::size_t>(1, wanted.patterns.size());
    for (std::size_t i = 0; i < wanted.patterns.size(); ++i) {
        auto const& pattern = wanted.patterns[i];
        state->results[i].pattern = pattern;
        state->results[i].since = wanted.since_for(pattern);
        services.subscribe_pattern(*ch, pattern, state->results[i].since, share, subscribe_queue::authorization::check,
                                   [state, ch, i](boost::system::error_code ec, pattern_history_result r,
                                                  std::string reason) {
                                       if (ec && !state->failed) {
                                           state->failed = ec;
                                           state->refused = state->results[i].pattern;
                                           state->reason = std::move(reason);
                                       }
                                       state->results[i].result = std::move(r);
                                       if (--state->remaining != 0 || ch->closing())
                                           return;
                                       state->done(state->failed, state->refused, state->reason,
                                                   std::move(state->results));
                                   });
    }
}

}  // namespace

void open_stream(channel_services& services, channel_ptr const& ch, stream_request wanted, std::size_t max_bytes,
                 stream_refusal refuse, stream_subscribed subscribed)
{
    if (auto refused = services.open(ch))
        return refuse(refused, {});
    if (wanted.presence)
        // presence=1: a member of every topic it names, or refused whole; joined last, once all are subscribed.
        subscribed = [&services, ch, resume = wanted.presence_resume, refuse,
                      then = std::move(subscribed)](std::vector<topic_subscription> done,
                                                    std::vector<pattern_subscription> patterns) {
            std::vector<std::string> topics;
            for (auto const& s : done)
                topics.push_back(s.topic);
            services.join_presence_all(ch, std::move(topics), resume,
                                       [refuse, then, done = std::move(done),
                                        patterns = std::move(patterns)](boost::system::error_code ec) mutable {
                                           if (ec)
                                               return refuse(ec, {});
                                           then(std::move(done), std::move(patterns));
                                       });
        };
    // The client's own topics are authorized; its server-side ones were granted with its identity.
    std::vector<std::string> topics;
    std::set_difference(wanted.topics.begin(), wanted.topics.end(), wanted.server_topics.begin(),
                        wanted.server_topics.end(), std::back_inserter(topics));
    std::vector<std::string> all;
    std::set_union(wanted.topics.begin(), wanted.topics.end(), wanted.server_topics.begin(),
                   wanted.server_topics.end(), std::back_inserter(all));
    wanted.topics = std::move(all);
    services.authorizer.authorize_all(
        authorize_request::kind::subscribe, std::move(topics), ch->identity_pointer(), ch, ch->remote_address(),
        [&services, ch, wanted = std::move(wanted), max_bytes, refuse = std::move(refuse),
         subscribed = std::move(subscribed)](boost::system::error_code ec, std::string const& topic,
                                             std::string const& reason) mutable {
            if (ch->closing())
                return;  // answered meanwhile (the server is stopping)
            if (ec)
                return refuse(ec, !reason.empty()              ? reason
                                  : ec == error::forbidden ? "not allowed to subscribe to " + topic
                                                           : std::string());
            // Topics and patterns share the first pages' budget, half each when there are both.
            std::size_t const topic_bytes = wanted.patterns.empty() ? max_bytes : max_bytes / 2;
            subscribe_topics(services, *ch, wanted, topic_bytes,
                             [&services, ch, wanted, pattern_bytes = max_bytes - topic_bytes, refuse = std::move(refuse),
                              subscribed = std::move(subscribed)](boost::system::error_code ec,
                                                                  std::vector<topic_subscription> done) mutable {
                                 if (ec)
                                     return refuse(ec, {});
                                 if (wanted.patterns.empty())
                                     return subscribed(std::move(done), {});
                                 if (auto why = services.pattern_refusal(wanted.patterns.front()); !why.empty())
                                     return refuse(error::invalid_pattern, why);
                                 subscribe_patterns(
                                     services, ch, wanted, pattern_bytes,
                                     [ch, refuse, subscribed, done = std::move(done)](
                                         boost::system::error_code ec, std::string const& pattern,
                                         std::string const& reason, std::vector<pattern_subscription> patterns) mutable {
                                         if (ch->closing())
                                             return;
                                         if (ec && !reason.empty())
                                             return refuse(ec, reason);
                                         if (ec == error::forbidden)
                                             return refuse(ec, "not allowed to subscribe to " + pattern);
                                         if (ec == error::too_many_topics)
                                             return refuse(ec, "resuming " + pattern +
                                                                   " would replay more topics than the server allows; "
                                                                   "subscribe without its cursor");
                                         if (ec)
                                             return refuse(ec, {});
                                         subscribed(std::move(done), std::move(patterns));
                                     });
                             });
        });
}

position start_position(pattern_subscription const& s)
{
    auto const& latest = s.result.latest;
    if (s.since && (s.since->epoch.empty() || s.since->epoch == latest.epoch) && s.since->offset < latest.offset)
        return {s.since->offset, latest.epoch};
    return latest;
}

position start_position(history_result const& result)
{
    if (result.messages.empty())
        return result.latest;
    auto const& first = *result.messages.front();
    return {first.offset() - 1, first.epoch()};
}

}  // namespace switchboard::detail
