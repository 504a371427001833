#include "backplanes/nats/stream_config.hpp"

#include <algorithm>

namespace switchboard::nats {

namespace {

std::int64_t nanoseconds(std::chrono::seconds s)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(s).count();
}

}  // namespace

nlohmann::json stream_config(subjects const& names, std::string const& stream, jetstream_options const& options,
                             history_options const& history)
{
    std::size_t max_messages = std::max<std::size_t>(history.limits.max_messages, 1);
    auto max_age = std::max(options.position_ttl, history.limits.max_age);
    for (auto const& rule : history.overrides) {
        max_messages = std::max(max_messages, rule.limits.max_messages);
        max_age = std::max(max_age, rule.limits.max_age);
    }
    // JetStream refuses a duplicate window longer than max_age, and takes 0 for its own default (2 minutes).
    auto const window = std::clamp<std::chrono::nanoseconds>(history.idempotency_window, std::chrono::milliseconds(1),
                                                            std::chrono::nanoseconds(max_age));
    return {
        {"name", stream},
        {"subjects", {names.stored_wildcard()}},
        {"retention", "limits"},
        {"storage", options.storage},
        {"num_replicas", options.replicas},
        {"max_consumers", -1},
        {"max_msgs", -1},
        {"max_msgs_per_subject", static_cast<std::int64_t>(max_messages)},
        {"max_bytes", options.max_bytes},
        {"max_age", nanoseconds(max_age)},
        {"max_msg_size", options.max_message_size},
        {"discard", "old"},
        {"allow_direct", true},
        {"duplicate_window", window.count()},
        {"republish", {{"src", names.stored_wildcard()}, {"dest", names.live_wildcard()}}},
    };
}

nlohmann::json reader_consumer_request(std::string const& stream, std::string const& deliver_subject,
                                       std::uint64_t start, std::string const& filter,
                                       std::chrono::milliseconds inactive)
{
    return {{"stream_name", stream},
            {"config",
             {{"deliver_subject", deliver_subject},
              {"deliver_policy", "by_start_sequence"},
              {"opt_start_seq", start},
              {"filter_subject", filter},
              {"ack_policy", "none"},
              {"replay_policy", "instant"},
              {"mem_storage", true},
              {"num_replicas", 1},
              {"inactive_threshold", std::chrono::nanoseconds(inactive).count()}}}};
}

std::string stream_difference(nlohmann::json const& have, nlohmann::json const& want)
{
    auto const subjects = have.value("subjects", nlohmann::json::array());
    if (std::find(subjects.begin(), subjects.end(), want["subjects"][0]) == subjects.end())
        return "the stream does not hold " + want["subjects"][0].get<std::string>();
    if (!have.contains("republish") || have["republish"].value("src", "") != want["republish"]["src"] ||
        have["republish"].value("dest", "") != want["republish"]["dest"])
        return "the stream does not republish " + want["republish"]["src"].get<std::string>() + " to " +
               want["republish"]["dest"].get<std::string>();
    if (have.value("storage", "") != want["storage"])
        return "the stream's storage is " + have.value("storage", std::string("?"));
    for (char const* key : {"max_msgs_per_subject", "max_bytes", "max_age", "max_msg_size", "allow_direct", "discard",
                             "duplicate_window"})
        if (have.value(key, nlohmann::json()) != want[key])
            return "update";
    return "";
}

}  // namespace switchboard::nats
