#include "core/pattern_trie.hpp"

namespace switchboard::detail {

pattern_trie::pattern_trie() : root_(std::make_unique<pattern_node>()) {}
pattern_trie::~pattern_trie() = default;

namespace {

// The child slot of `n` for `token`, or null when it has none.
std::unique_ptr<pattern_node> const* child(pattern_node const& n, std::string_view token) noexcept
{
    if (token == "*")
        return &n.one;
    if (token == ">")
        return &n.rest;
    auto const it = n.literals.find(token);
    return it == n.literals.end() ? nullptr : &it->second;
}

}  // namespace

pattern_node& pattern_trie::insert(std::string_view pattern)
{
    pattern_node* n = root_.get();
    std::size_t from = 0;
    while (from <= pattern.size()) {
        auto const dot = pattern.find('.', from);
        std::size_t const end = dot == std::string_view::npos ? pattern.size() : dot;
        auto const token = pattern.substr(from, end - from);
        std::unique_ptr<pattern_node>* slot;
        if (token == "*")
            slot = &n->one;
        else if (token == ">")
            slot = &n->rest;
        else
            slot = &n->literals.try_emplace(std::string(token)).first->second;
        if (!*slot) {
            *slot = std::make_unique<pattern_node>();
            (*slot)->parent = n;
            if (token != "*" && token != ">")
                (*slot)->token = std::string(token);
        }
        n = slot->get();
        from = end + 1;
    }
    if (n->pattern.empty()) {
        n->pattern = std::string(pattern);
        ++patterns_;
    }
    return *n;
}

pattern_node* pattern_trie::find(std::string_view pattern) const noexcept
{
    pattern_node const* n = root_.get();
    std::size_t from = 0;
    while (from <= pattern.size()) {
        auto const dot = pattern.find('.', from);
        std::size_t const end = dot == std::string_view::npos ? pattern.size() : dot;
        auto const slot = child(*n, pattern.substr(from, end - from));
        if (!slot || !*slot)
            return nullptr;
        n = slot->get();
        from = end + 1;
    }
    return n->pattern.empty() ? nullptr : const_cast<pattern_node*>(n);
}

void pattern_trie::prune(pattern_node& node) noexcept
{
    pattern_node* n = &node;
    if (n->live != 0 || n->delivering || !n->subscribers.empty())
        return;
    if (!n->pattern.empty()) {
        n->pattern.clear();
        n->pattern.shrink_to_fit();
        --patterns_;
    }
    // Up from a node nothing ends at nor passes through, removing it from its parent.
    while (n != root_.get() && n->pattern.empty() && n->literals.empty() && !n->one && !n->rest) {
        pattern_node* parent = n->parent;
        if (parent->one.get() == n) {
            parent->one.reset();
        } else if (parent->rest.get() == n) {
            parent->rest.reset();
        } else {
            auto const key = std::move(n->token);  // erasing destroys n
            parent->literals.erase(key);
        }
        n = parent;
    }
}

}  // namespace switchboard::detail
