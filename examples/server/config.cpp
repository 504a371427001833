#include "config.hpp"

#include "config_keys.hpp"
#include "config_values.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

namespace switchboard_server {

namespace {

using nlohmann::json;
// The file is read in its own order, so errors come in the order of its lines.
using ordered = nlohmann::ordered_json;

// One value for one key, from one layer; or, with no key, an error found while reading the layer, kept in
// line so that errors come out in the order of the file.
struct assignment {
    config_key const* key;
    json value;
    std::string origin;
    config_error error;
};

bool is_section(std::string_view path)
{
    auto const keys = config_keys();
    return std::any_of(keys.begin(), keys.end(), [&](config_key const& k) {
        return k.path.size() > path.size() && k.path.starts_with(path) && k.path[path.size()] == '.';
    });
}

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t const up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// A key or section path close to `path` (a typo, or a key put in the wrong section), as " (did you mean ...?)".
std::string suggestion(std::string_view path)
{
    auto const last = [](std::string_view p) { return p.substr(p.rfind('.') + 1); };
    std::set<std::string_view> candidates;
    for (auto const& k : config_keys())
        for (auto p = k.path;; p = p.substr(0, p.rfind('.'))) {
            candidates.insert(p);
            if (p.find('.') == std::string_view::npos)
                break;
        }
    std::string_view best;
    std::size_t best_distance = std::max<std::size_t>(2, last(path).size() / 3) + 1;
    for (auto const c : candidates) {
        // The right name in another section counts as close as can be.
        std::size_t const d = last(c) == last(path) ? 0 : edit_distance(c, path);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best.empty() ? std::string() : " (did you mean \"" + std::string(best) + "\"?)";
}

// The file's keys as assignments; unknown keys and sections that are not objects are errors.
void walk(ordered const& object, std::string const& prefix, std::vector<assignment>& out)
{
    for (auto const& [name, value] : object.items()) {
        auto const path = prefix.empty() ? name : prefix + "." + name;
        if (auto const* key = find_key(path))
            out.push_back({key, json(value), {}, {}});
        else if (!is_section(path))
            out.push_back({nullptr, {}, {}, {path, "unknown key" + suggestion(path), {}}});
        else if (!value.is_object())
            out.push_back({nullptr, {}, {}, {path, "expected an object (a section of keys), got " + show(value), {}}});
        else
            walk(value, path, out);
    }
}

// nlohmann keeps the last of two equal keys without a word; a configuration must not, so a parser callback
// follows the path and reports each key seen twice in one object.
class duplicate_finder {
public:
    explicit duplicate_finder(std::vector<config_error>& errors) : errors_(errors) {}

    bool operator()(int, ordered::parse_event_t event, ordered& parsed)
    {
        using e = ordered::parse_event_t;
        switch (event) {
        case e::object_start:
        case e::array_start:
            next_element();
            frames_.push_back({event == e::array_start, {}, 0, {}});
            break;
        case e::object_end:
        case e::array_end:
            frames_.pop_back();
            break;
        case e::key: {
            auto const& name = parsed.get_ref<std::string const&>();
            frames_.back().label = (frames_.size() == 1 ? "" : ".") + name;
            if (!frames_.back().seen.insert(name).second)
                errors_.push_back({path(), "given twice in one object", {}});
            break;
        }
        case e::value:
            next_element();
            break;
        }
        return true;
    }

private:
    struct frame {
        bool array;
        std::string label;  // of the child being read: ".key" or "[index]"
        std::size_t index;
        std::set<std::string> seen;
    };

    void next_element()
    {
        if (!frames_.empty() && frames_.back().array)
            frames_.back().label = "[" + std::to_string(frames_.back().index++) + "]";
    }

    std::string path() const
    {
        std::string p;
        for (auto const& f : frames_)
            p += f.label;
        return p;
    }

    std::vector<config_error>& errors_;
    std::vector<frame> frames_;
};

void read_file(config_sources const& sources, std::vector<assignment>& out, std::vector<config_error>& errors)
{
    ordered document;
    std::vector<config_error> duplicates;
    try {
        document = ordered::parse(sources.file_text, duplicate_finder(duplicates));
    } catch (ordered::parse_error const& e) {
        // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." without the library's tag.
        std::string_view what = e.what();
        if (auto const tag = what.find("] "); tag != std::string_view::npos)
            what.remove_prefix(tag + 2);
        errors.push_back({{}, "not valid JSON: " + std::string(what), sources.file_name});
        return;
    }
    errors.insert(errors.end(), duplicates.begin(), duplicates.end());
    if (!document.is_object()) {
        errors.push_back({{}, "expected a JSON object at the top level, got " + show(document), sources.file_name});
        return;
    }
    walk(document, {}, out);
}

// Environment and flag values are text; a file would hold numbers as numbers and the rule list as JSON.
json text_value(config_key const& key, std::string const& text, std::string const& origin,
                std::vector<config_error>& errors)
{
    switch (key.kind) {
    case value_kind::count:
    case value_kind::size:
    case value_kind::duration:
    case value_kind::seconds:
        return number_or_string(text);
    case value_kind::text_list:
        // A JSON array as in the file, or the plain "a,b" form.
        if (text.starts_with('[')) {
            auto v = json::parse(text, nullptr, false);
            return v.is_discarded() ? json(text) : v;
        }
        return text;
    case value_kind::boolean:
        return text == "true" ? json(true) : text == "false" ? json(false) : json(text);
    case value_kind::history_overrides:
    case value_kind::namespaces: {
        auto v = json::parse(text, nullptr, false);
        if (v.is_discarded())
            errors.push_back({std::string(key.path),
                              std::string("expected a JSON ") +
                                  (key.kind == value_kind::namespaces ? "object of namespaces" : "array of rules") +
                                  ", got text that is not JSON",
                              origin});
        return v;
    }
    default:
        return text;
    }
}

void read_environment(config_sources const& sources, std::vector<assignment>& out, config_result& result)
{
    for (auto const& [name, text] : sources.environment) {
        auto const keys = config_keys();
        auto const key = std::find_if(keys.begin(), keys.end(), [&](config_key const& k) { return env_name(k.path) == name; });
        if (key == keys.end()) {
            // Not an error: the environment is shared with other programs that may use the prefix.
            std::string closest;
            for (auto const& k : keys)
                if (edit_distance(env_name(k.path), name) <= 2)
                    closest = " (did you mean " + env_name(k.path) + "?)";
            result.warnings.push_back({{}, "names no configuration key; ignored" + closest, name});
            continue;
        }
        auto v = text_value(*key, text, name, result.errors);
        if (!v.is_discarded())
            out.push_back({&*key, std::move(v), name, {}});
    }
}

void read_flags(config_sources const& sources, std::vector<assignment>& out, std::vector<config_error>& errors)
{
    for (auto const& flag : sources.flags) {
        auto const* key = find_key(flag.path);
        if (!key) {
            errors.push_back({flag.path, "no such configuration key", flag.flag});
            continue;
        }
        auto v = text_value(*key, flag.text, flag.flag, errors);
        if (!v.is_discarded())
            out.push_back({key, std::move(v), flag.flag, {}});
    }
}

// Settings that are each fine alone but not together.
void check_across_keys(server_config const& c, std::vector<config_error>& errors)
{
    auto const& o = c.server;
    std::pair<std::string_view, std::string const*> const paths[] = {
        {"websocket.path", &o.websocket_path}, {"sse.path", &o.sse_path},         {"long_polling.path", &o.poll_path},
        {"publish.path", &o.publish_path},     {"metrics.path", &o.metrics_path}, {"health.path", &o.health_path},
        {"health.ready_path", &o.ready_path},   {"client.path", &o.client_path},
        {"presence.path", &o.presence.path}};
    for (std::size_t i = 0; i < std::size(paths); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (!paths[i].second->empty() && *paths[i].second == *paths[j].second)
                errors.push_back({std::string(paths[i].first),
                                  "\"" + *paths[i].second + "\" is also " + std::string(paths[j].first), {}});
    // A proxy URL the server could not use fails --check-config, not the start.
    for (auto const& [path, url] : {std::pair{"proxy.connect_url", &o.proxy.connect_url},
                                    std::pair{"proxy.refresh_url", &o.proxy.refresh_url},
                                    std::pair{"proxy.subscribe_url", &o.proxy.subscribe_url},
                                    std::pair{"proxy.publish_url", &o.proxy.publish_url}})
        if (auto why = switchboard::proxy_url_problem(*url); !why.empty())
            errors.push_back({path, why, {}});
    // TLS needs both files, readable; whether they hold a matching certificate and key is checked at start.
    if (o.tls_cert_file.empty() != o.tls_key_file.empty())
        errors.push_back({o.tls_cert_file.empty() ? "tls.cert_file" : "tls.key_file",
                          "TLS needs both tls.cert_file and tls.key_file", {}});
    for (auto const& [path, file] : {std::pair{"tls.cert_file", &o.tls_cert_file}, std::pair{"tls.key_file", &o.tls_key_file}})
        if (!file->empty() && !std::ifstream(*file))
            errors.push_back({path, "cannot read " + *file, {}});
    if (o.tls_only && o.tls_cert_file.empty())
        errors.push_back({"tls.only", "needs tls.cert_file and tls.key_file", {}});
    // One backplane links the nodes: two would give each topic two sets of positions.
    if (!c.nats.url.empty() && !c.redis.url.empty())
        errors.push_back({"nats.url", "cannot be used with redis.url: --nats and --redis each choose the backplane; give one", {}});
    if (!c.nats.tls_ca_file.empty() && !std::ifstream(c.nats.tls_ca_file))
        errors.push_back({"nats.tls_ca_file", "cannot read " + c.nats.tls_ca_file, {}});
    // A stream's name becomes a directory in NATS' store and a token of its API subjects.
    if (!std::all_of(c.nats.stream.begin(), c.nats.stream.end(),
                     [](unsigned char ch) { return std::isalnum(ch) || ch == '_' || ch == '-'; }))
        errors.push_back({"nats.stream", "may hold only A-Z a-z 0-9 _ -, got \"" + c.nats.stream + "\"", {}});
    if (c.nats.storage != "file" && c.nats.storage != "memory")
        errors.push_back({"nats.storage", "must be \"file\" or \"memory\", got \"" + c.nats.storage + "\"", {}});
    // A message as large as allowed, plus its framing, must fit in a queue that replays fill only to half.
    if (o.max_queue_bytes < 2 * o.max_message_size)
        errors.push_back({"limits.max_queue_bytes",
                          "must be at least twice limits.max_message_size (" + format_size(2 * o.max_message_size) +
                              "), got " + format_size(o.max_queue_bytes),
                          {}});
}

}  // namespace

std::string to_string(config_error const& e)
{
    if (e.path.empty())
        return e.origin.empty() ? e.message : e.origin + ": " + e.message;
    return e.path + (e.origin.empty() ? "" : " (" + e.origin + ")") + ": " + e.message;
}

config_result resolve_config(config_sources const& sources)
{
    config_result result;
    std::vector<assignment> layers;
    if (!sources.file_name.empty())
        read_file(sources, layers, result.errors);
    read_environment(sources, layers, result);
    read_flags(sources, layers, result.errors);

    // The rule list last, then the namespaces: their rules inherit the server-wide history limits as every layer
    // leaves them, and a namespace's history adds a rule to the list.
    auto const rank = [](assignment const& a) {
        if (!a.key)
            return 0;
        return a.key->kind == value_kind::history_overrides ? 1 : a.key->kind == value_kind::namespaces ? 2 : 0;
    };
    std::stable_sort(layers.begin(), layers.end(),
                     [&](assignment const& a, assignment const& b) { return rank(a) < rank(b); });
    for (auto const& a : layers) {
        if (a.key)
            apply_value(*a.key, a.value, a.origin, result.config, result.errors);
        else
            result.errors.push_back(a.error);
    }
    if (result.ok())
        check_across_keys(result.config, result.errors);
    return result;
}

config_result load_config(std::string_view json_text)
{
    config_sources sources;
    sources.file_name = "configuration";
    sources.file_text = std::string(json_text);
    return resolve_config(sources);
}

}  // namespace switchboard_server
