#include <switchboard/loop_cluster.hpp>

#include "backplanes/memory_store.hpp"

#include <switchboard/detail/string_hash.hpp>
#include <switchboard/topic.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace switchboard {

class cluster_node;

namespace detail {

// Messages a publishing turn hands the other loops before it wakes them without waiting for its end: enough for
// their batches to share writes (64 messages in one write per subscriber), few enough that a turn of thousands
// keeps them busy as it goes.
constexpr std::size_t wake_every = 64;

// A loop's own copy of a message. A message caches its wire encodings (message::encoding) without a lock, for
// its one loop: the store's message, shared by every loop, is never handed out; each loop encodes its own copy,
// once per wire format, and shares it among its subscribers. The copy shares the envelope's bytes (the payload
// is not copied): it costs the topic, the epoch and one allocation.
message_ptr loop_copy(message_ptr const& m)
{
    return std::make_shared<message const>(*m);
}

// What reaches one node from any thread, in the order it entered: messages and the node's answers. A message
// queue of our own rather than one post per message: Asio may run a post made from the loop's own thread
// after one another thread made later (its thread-private queue), which would reorder a topic's messages.
struct node_inbox : std::enable_shared_from_this<node_inbox> {
    struct item {
        message_ptr message;         // a message to deliver, or
        std::function<void()> call;  // an answer to run
    };

    explicit node_inbox(boost::asio::any_io_executor e) : ex(std::move(e)) {}

    void push(item i)
    {
        std::lock_guard lock(mutex);
        items.push_back(std::move(i));
        schedule();
    }

    /// Queues without waking the loop: the pusher runs the inbox itself or wakes it later (cluster_node::publish).
    void push_quietly(item i)
    {
        std::lock_guard lock(mutex);
        items.push_back(std::move(i));
    }

    void wake()
    {
        std::lock_guard lock(mutex);
        if (!items.empty() && !closed)
            schedule();
    }

    /// Out of the cluster: a node that put messages here before it went must not post to the loop any more (it
    /// may be gone with its io_context).
    void close()
    {
        std::lock_guard lock(mutex);
        closed = true;
    }

    // On the node's loop: one batch per turn, with no lock held while it runs.
    void drain();
    // On the node's loop, from its own publish: runs what is queued now, that publish's message and answer last.
    // Inside a running batch (a publish made by a delivery or by an answer: the next request a connection
    // pipelined), they join the end of that batch instead, so that the order holds. A publish thus completes
    // in the loop turn it was made in, as on the memory backplane, and a connection's pipelined publishes fan
    // out in one turn and share its flush, instead of one turn (and one write per subscriber) each.
    void run_now();

    boost::asio::any_io_executor ex;
    std::mutex mutex;
    std::vector<item> items;    // under mutex
    bool scheduled = false;     // under mutex: a drain is posted
    bool closed = false;        // under mutex: the node left the cluster (wake does nothing)
    std::vector<item> batch;    // the loop thread's: the batch being run, which run_now may lengthen
    bool running = false;       // the loop thread's: a batch is being run
    cluster_node* owner = nullptr;  // the loop thread's: null once the node is gone

private:
    void run();

    // Under mutex.
    void schedule()
    {
        if (!scheduled) {
            scheduled = true;
            boost::asio::post(ex, [self = shared_from_this()] { self->drain(); });
        }
    }
};

struct cluster_state {
    explicit cluster_state(history_options options) : store(std::move(options)) {}

    mutable std::mutex mutex;  // guards everything below
    memory_store store;
    std::vector<std::shared_ptr<node_inbox>> nodes;
    using node_list = std::vector<std::shared_ptr<node_inbox>>;
    // What a message goes to: the nodes with a subscriber of its topic (what their hubs asked for through
    // subscribe), and the nodes following a pattern that matches it. A loop with no subscriber of a topic pays
    // nothing for it (at 16 or 64 loops and many small topics, most loops have none), and a publish costs the
    // nodes it reaches, not every node.
    std::unordered_map<std::string, node_list, string_hash, std::equal_to<>> interest;
    struct follower {
        std::shared_ptr<node_inbox> node;
        std::vector<std::string> patterns;
    };
    std::vector<follower> followers;  // only nodes that follow a pattern
    std::chrono::steady_clock::time_point last_sweep = std::chrono::steady_clock::now();

    /// Calls `f` once for each node that takes a message of `topic`.
    template <class F>
    void for_each_receiver(std::string_view topic, F&& f) const
    {
        auto const it = interest.find(topic);
        node_list const* subscribed = it == interest.end() ? nullptr : &it->second;
        if (subscribed)
            for (auto const& n : *subscribed)
                f(n);
        for (auto const& [n, patterns] : followers) {
            bool const matches = std::any_of(patterns.begin(), patterns.end(),
                                             [&](std::string const& p) { return pattern_matches(p, topic); });
            if (matches && (!subscribed || std::find(subscribed->begin(), subscribed->end(), n) == subscribed->end()))
                f(n);
        }
    }

    /// Into the inbox of every node that takes it, none woken: the publishing node runs its own at once (run_now),
    /// and the others are returned to wake (each once per publishing turn).
    void deliver(message_ptr const& m, node_inbox const& from, node_list& woken) const
    {
        for_each_receiver(m->topic(), [&](std::shared_ptr<node_inbox> const& n) {
            n->push_quietly({m, {}});
            if (n.get() != &from && std::find(woken.begin(), woken.end(), n) == woken.end())
                woken.push_back(n);
        });
    }

    void add_interest(std::string const& topic, std::shared_ptr<node_inbox> const& n) { interest[topic].push_back(n); }

    void remove_interest(std::string_view topic, node_inbox const& n)
    {
        auto it = interest.find(topic);
        if (it == interest.end())
            return;
        std::erase_if(it->second, [&](auto const& p) { return p.get() == &n; });
        if (it->second.empty())
            interest.erase(it);
    }

    void follow(std::shared_ptr<node_inbox> const& n, std::string const& pattern)
    {
        auto it = std::find_if(followers.begin(), followers.end(), [&](follower const& f) { return f.node == n; });
        if (it == followers.end())
            it = followers.insert(followers.end(), follower{n, {}});
        it->patterns.push_back(pattern);
    }

    void unfollow(node_inbox const& n, std::string const& pattern)
    {
        auto it = std::find_if(followers.begin(), followers.end(), [&](follower const& f) { return f.node.get() == &n; });
        if (it == followers.end())
            return;
        if (auto p = std::find(it->patterns.begin(), it->patterns.end(), pattern); p != it->patterns.end())
            it->patterns.erase(p);
        if (it->patterns.empty())
            followers.erase(it);
    }

    /// Node `n` leaves: nothing more is handed to it. `topics`: those it is subscribed to.
    template <class Topics>
    void remove(node_inbox const& n, Topics const& topics)
    {
        for (auto const& [topic, where] : topics)
            remove_interest(topic, n);
        std::erase_if(followers, [&](follower const& f) { return f.node.get() == &n; });
        std::erase_if(nodes, [&](auto const& p) { return p.get() == &n; });
    }
};

}  // namespace detail

// One loop's backplane. Its calls take the cluster's lock for the store only; what it delivers and answers
// runs on its loop from its inbox, with no lock.
class cluster_node final : public backplane {
public:
    cluster_node(std::shared_ptr<detail::cluster_state> state, boost::asio::any_io_executor ex)
        : state_(std::move(state)), inbox_(std::make_shared<detail::node_inbox>(ex)), sweep_timer_(ex)
    {
        inbox_->owner = this;
        std::lock_guard lock(state_->mutex);
        state_->nodes.push_back(inbox_);
        schedule_sweep();
    }

    ~cluster_node() override
    {
        wake_others();
        inbox_->owner = nullptr;
        std::lock_guard lock(state_->mutex);
        for (auto const& [topic, where] : delivered_)
            state_->store.unsubscribe(topic);
        state_->remove(*inbox_, delivered_);
        inbox_->close();
    }

    using backplane::publish;
    void publish(std::string topic, std::string data, publish_options options, publish_handler done) override
    {
        std::unique_lock lock(state_->mutex);
        auto answer = state_->store.publish(std::move(topic), std::move(data), client(), options.idempotency_key);
        if (answer.ec) {
            lock.unlock();
            done(answer.ec, {});
            return;
        }
        if (!answer.message) {
            // A retry: nothing to deliver. Answered behind what this node's inbox holds, as a publish is (its
            // first publish's own answer among them, when both came in one turn).
            inbox_->push_quietly({{}, [done = std::move(done), where = std::move(answer.where)] { done({}, where); }});
            lock.unlock();
            inbox_->run_now();
            return;
        }
        // Into the inboxes under the lock, so that each node gets a topic's messages in offset order; the answer
        // after this node's copy (if it takes the topic), as the memory backplane delivers before it answers.
        bool const waking = !to_wake_.empty();
        state_->deliver(answer.message, *inbox_, to_wake_);
        inbox_->push_quietly({{}, [done = std::move(done), where = answer.message->where()] { done({}, where); }});
        lock.unlock();
        inbox_->run_now();
        // The other loops are woken once this turn is over, not at each message: they then take the turn's
        // publishes in one batch, and their subscribers in one write each (woken at once, a loop on another core
        // takes each message as it comes, and writes to every subscriber as often). A long turn (a service
        // publishing in a tight loop on this thread) wakes them every wake_every messages as well, so that it
        // holds none of them back until it ends.
        if (to_wake_.empty())
            return;
        if (++handed_since_wake_ >= detail::wake_every)
            return wake_others();
        if (!waking)
            boost::asio::post(sweep_timer_.get_executor(), [inbox = inbox_] {
                if (inbox->owner)  // null once the node is gone (it woke them then)
                    inbox->owner->wake_others();
            });
    }

    void history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                 history_handler done) override
    {
        std::lock_guard lock(state_->mutex);
        auto answer = state_->store.history(topic, since, max_bytes, client());
        // Queued under the lock: every message published before this read is ahead of it in the inbox.
        inbox_->push({{}, [this, topic, answer = std::move(answer), done = std::move(done)]() mutable {
                          for (auto& m : answer.result.messages)
                              m = detail::loop_copy(m);
                          if (!answer.ec)
                              caught_up(topic, answer.result.latest);
                          done(answer.ec, std::move(answer.result));
                      }});
    }

    void pattern_history(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                         std::size_t max_topics, pattern_history_handler done) override
    {
        std::lock_guard lock(state_->mutex);
        auto answer = state_->store.pattern_history(pattern, since, max_bytes, max_topics);
        inbox_->push({{}, [answer = std::move(answer), done = std::move(done)]() mutable {
                          for (auto& m : answer.result.messages)
                              m = detail::loop_copy(m);
                          done(answer.ec, std::move(answer.result));
                      }});
    }

    void set_history_options(history_options options) override
    {
        std::lock_guard lock(state_->mutex);
        state_->store.set_options(std::move(options));
    }

    void subscribe(std::string const& topic) override
    {
        if (delivered_.contains(topic))
            return;
        std::lock_guard lock(state_->mutex);
        // Counted only when a bound lets this client take the topic on (else its history read fails). From here
        // on the topic's messages reach this node: under the lock, before the history read the join makes next.
        if (state_->store.subscribe(topic, client())) {
            delivered_.try_emplace(topic);
            if (!closed_)  // a closed node is handed nothing more
                state_->add_interest(topic, inbox_);
        }
    }

    void unsubscribe(std::string const& topic) override
    {
        auto it = delivered_.find(topic);
        if (it == delivered_.end())
            return;
        delivered_.erase(it);
        std::lock_guard lock(state_->mutex);
        state_->store.unsubscribe(topic);
        state_->remove_interest(topic, *inbox_);
    }

    // The topics a pattern matches reach this node from here on, as a Redis node's PSUBSCRIBE brings them; the
    // hub holds the pattern's subscribers before it calls this, and reads the pattern's history after.
    void subscribe_pattern(std::string const& pattern) override
    {
        if (closed_)
            return;  // a closed node is handed nothing more
        std::lock_guard lock(state_->mutex);
        state_->follow(inbox_, pattern);
    }

    void unsubscribe_pattern(std::string const& pattern) override
    {
        std::lock_guard lock(state_->mutex);
        state_->unfollow(*inbox_, pattern);
    }

    std::optional<position> delivered(std::string const& topic) const override
    {
        auto it = delivered_.find(topic);
        if (it == delivered_.end() || it->second.epoch.empty())
            return std::nullopt;
        return it->second;
    }

    void close() override
    {
        // No more messages from other loops, so that a stopping loop runs dry while the others still publish;
        // this node's own answers still come.
        wake_others();
        closed_ = true;
        sweep_timer_.cancel();
        std::lock_guard lock(state_->mutex);
        state_->remove(*inbox_, delivered_);
    }

    char const* name() const noexcept override { return "memory"; }
    bool delivers_patterns() const noexcept override { return true; }

    // Presence: the members are the cluster's (one map for every loop, under its lock, as the memory backplane
    // keeps them for one); each join and leave reaches the inbox of every node subscribed to its topic, in the
    // order the store took them.
    bool supports_presence() const noexcept override { return true; }

    void presence_join(std::string const& topic, presence_member member, std::size_t max_members,
                       presence_handler done) override
    {
        std::lock_guard lock(state_->mutex);
        auto answer = state_->store.presence.join(topic, std::move(member), max_members);
        if (answer.event) {
            ++own_members_[topic];
            ++own_member_count_;
            tell_subscribed_nodes(answer.event);
        }
        // Behind the event in this node's inbox, as the memory backplane delivers before it answers.
        inbox_->push({{}, [done = std::move(done), ec = answer.ec] { done(ec); }});
    }

    void presence_leave(std::string const& topic, std::string const& client) override
    {
        std::lock_guard lock(state_->mutex);
        if (auto event = state_->store.presence.leave(topic, client)) {
            // A member leaves through the loop it joined through: its channel, and its grace, are that loop's.
            if (auto it = own_members_.find(topic); it != own_members_.end()) {
                --own_member_count_;
                if (--it->second == 0)
                    own_members_.erase(it);
            }
            tell_subscribed_nodes(event);
        }
    }

    void presence_members(std::string const& topic, std::string const& after, std::size_t limit,
                          presence_page_handler done) override
    {
        std::unique_lock lock(state_->mutex);
        auto page = state_->store.presence.members(topic, after, limit);
        lock.unlock();
        done({}, std::move(page));
    }

    void presence_stats(std::string const& topic, presence_counts_handler done) override
    {
        std::unique_lock lock(state_->mutex);
        auto const counts = state_->store.presence.counts(topic);
        lock.unlock();
        done({}, counts);
    }

    // This loop's own members, as a Redis node counts its own: /metrics sums the loops.
    std::optional<presence_totals> presence_size() const override
    {
        return presence_totals{own_member_count_, own_members_.size()};
    }

    void on_message(message_ptr const& shared)
    {
        auto const m = detail::loop_copy(shared);
        if (auto it = delivered_.find(m->topic()); it != delivered_.end())
            it->second = m->where();
        deliver(m);
    }

private:
    // Under the cluster's lock. To the nodes subscribed to the event's topic, as a message goes (the others' hubs
    // have no listener of it), each handing on its own copy: an event's encodings are cached for one loop.
    void tell_subscribed_nodes(presence_event_ptr const& e)
    {
        auto const it = state_->interest.find(e->topic());
        if (it == state_->interest.end())
            return;
        for (auto const& n : it->second)
            n->push({{}, [inbox = n.get(), e] {
                         // Run from that inbox, by its node (node_inbox::run checks it is there).
                         inbox->owner->deliver_presence(std::make_shared<presence_event const>(*e));
                     }});
    }

    void wake_others()
    {
        for (auto const& n : to_wake_)
            n->wake();
        to_wake_.clear();
        handed_since_wake_ = 0;
    }

    // A history answer leaves the inbox after every message published before its read and before any later
    // one: the node has delivered the topic up to the answer's position, exactly.
    void caught_up(std::string const& topic, position const& latest)
    {
        if (auto it = delivered_.find(topic); it != delivered_.end())
            it->second = latest;
    }

    // Under the cluster's lock (the interval is the store's).
    void schedule_sweep()
    {
        sweep_timer_.expires_after(state_->store.sweep_interval());
        sweep_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec || closed_)
                return;
            // Every node's timer fires; the store is swept once per interval.
            std::lock_guard lock(state_->mutex);
            auto const now = std::chrono::steady_clock::now();
            if (now - state_->last_sweep >= state_->store.sweep_interval() / 2) {
                state_->last_sweep = now;
                state_->store.sweep();
            }
            schedule_sweep();
        });
    }

    std::shared_ptr<detail::cluster_state> state_;
    std::shared_ptr<detail::node_inbox> inbox_;
    boost::asio::steady_timer sweep_timer_;
    // The topics this node is subscribed to (counted in the store), with the last position it delivered.
    std::unordered_map<std::string, position, detail::string_hash, std::equal_to<>> delivered_;
    std::vector<std::shared_ptr<detail::node_inbox>> to_wake_;  // other nodes given messages this turn, not woken yet
    std::size_t handed_since_wake_ = 0;  // publishes that gave them messages since they were last woken
    // Members that joined through this loop, by topic (what presence_size reports).
    std::unordered_map<std::string, std::size_t, detail::string_hash, std::equal_to<>> own_members_;
    std::size_t own_member_count_ = 0;
    bool closed_ = false;
};

namespace detail {

void node_inbox::run()
{
    running = true;
    // By index: an item may lengthen the batch (run_now).
    for (std::size_t k = 0; k < batch.size() && owner; ++k) {
        auto i = std::move(batch[k]);
        if (i.message)
            owner->on_message(i.message);
        else
            i.call();
    }
    batch.clear();
    running = false;
}

void node_inbox::run_now()
{
    {
        std::lock_guard lock(mutex);
        std::move(items.begin(), items.end(), std::back_inserter(batch));
        items.clear();
    }
    // A drain posted meanwhile (another loop's wake) finds the inbox empty, or newer items, and ends as usual.
    if (!running)
        run();
}

void node_inbox::drain()
{
    {
        std::lock_guard lock(mutex);
        batch.swap(items);
    }
    run();
    std::lock_guard lock(mutex);
    if (items.empty())
        scheduled = false;
    else
        boost::asio::post(ex, [self = shared_from_this()] { self->drain(); });
}

}  // namespace detail

loop_cluster::loop_cluster(history_options options)
    : state_(std::make_shared<detail::cluster_state>(std::move(options)))
{
}

loop_cluster::~loop_cluster() = default;

std::unique_ptr<backplane> loop_cluster::node(boost::asio::any_io_executor ex)
{
    return std::make_unique<cluster_node>(state_, std::move(ex));
}

void loop_cluster::set_history_options(history_options options)
{
    std::lock_guard lock(state_->mutex);
    state_->store.set_options(std::move(options));
}

std::size_t loop_cluster::topic_count() const
{
    std::lock_guard lock(state_->mutex);
    return state_->store.topic_count();
}

std::size_t loop_cluster::history_bytes() const
{
    std::lock_guard lock(state_->mutex);
    return state_->store.history_bytes();
}

std::size_t loop_cluster::node_count() const
{
    std::lock_guard lock(state_->mutex);
    return state_->nodes.size();
}

std::size_t loop_cluster::nodes_receiving(std::string_view topic) const
{
    std::lock_guard lock(state_->mutex);
    std::size_t count = 0;
    state_->for_each_receiver(topic, [&](auto const&) { ++count; });
    return count;
}

}  // namespace switchboard
