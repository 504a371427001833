#pragma once
// The patterns with local subscribers, as a token trie: one node per token of a pattern, a pattern's
// subscribers at its last token's node. Matching a topic walks its tokens down the literal, `*` and `>`
// branches that exist, so it costs what the tokens and the patterns sharing their prefixes cost, not the
// number of patterns (100,000 patterns on other prefixes cost nothing to a topic). Nodes never move once
// made (children are held by pointer), so the hub may hold a node while the trie grows.
//
// Loop thread only (the hub's).

#include <switchboard/channel.hpp>
#include <switchboard/detail/string_hash.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchboard::detail {

struct pattern_node {
    // As hub_topic: the pattern ending here (empty for an inner node), its subscribers (a null entry is a
    // channel that left while the node was being delivered, compacted right after).
    std::string pattern;
    std::vector<channel_ptr> subscribers;
    std::size_t live = 0;
    bool delivering = false;

    pattern_node* parent = nullptr;
    std::string token;  // this node's key in its parent's literals (a literal token)
    std::unordered_map<std::string, std::unique_ptr<pattern_node>, string_hash, std::equal_to<>> literals;
    std::unique_ptr<pattern_node> one;   // `*`
    std::unique_ptr<pattern_node> rest;  // `>` (a leaf)
};

class pattern_trie {
public:
    pattern_trie();
    ~pattern_trie();
    pattern_trie(pattern_trie const&) = delete;
    pattern_trie& operator=(pattern_trie const&) = delete;

    /// The node of `pattern` (valid), made if needed.
    pattern_node& insert(std::string_view pattern);
    /// The node of `pattern`, or null when no pattern ends there.
    pattern_node* find(std::string_view pattern) const noexcept;
    /// Removes `n` and the ancestors it alone kept, when nothing ends there any more (no subscriber, no
    /// delivery running, no children). `n` may be gone when this returns.
    void prune(pattern_node& n) noexcept;
    /// Patterns with a node (some possibly without live subscribers during a delivery).
    std::size_t size() const noexcept { return patterns_; }

    /// Calls `f(pattern_node&)` for every node of a pattern that `topic` matches, once each. `f` must not
    /// remove nodes (the hub defers that until the walk is over).
    template <class F>
    void match(std::string_view topic, F&& f) const
    {
        walk(*root_, topic, 0, f);
    }

private:
    template <class F>
    static void walk(pattern_node const& n, std::string_view topic, std::size_t from, F& f)
    {
        // `from` is where the next token starts; past the end, the topic has no token left.
        if (from > topic.size()) {
            if (!n.pattern.empty())
                f(const_cast<pattern_node&>(n));
            return;
        }
        if (n.rest)
            f(*n.rest);  // `>`: one or more tokens, and there is at least one
        auto const dot = topic.find('.', from);
        std::size_t const end = dot == std::string_view::npos ? topic.size() : dot;
        if (!n.literals.empty())
            if (auto it = n.literals.find(topic.substr(from, end - from)); it != n.literals.end())
                walk(*it->second, topic, end + 1, f);
        if (n.one)
            walk(*n.one, topic, end + 1, f);
    }

    std::unique_ptr<pattern_node> root_;
    std::size_t patterns_ = 0;
};

}  // namespace switchboard::detail
