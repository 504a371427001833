#pragma once
// The commands of one WebSocket that wait on an asynchronous hook (authorize, authenticate) or on the backplane
// (a publish's position, a history read over Redis), counted against the channel's bounds
// (server_options::max_pending_commands and max_pending_bytes): a client that floods commands without waiting
// for their answers gets too_many_pending instead of making the server hold its whole flood.
//
// Loop thread only.

#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>

#include <cstddef>
#include <memory>

namespace switchboard::websocket {

class pending_commands {
    // Shared by the channel and its tickets, counted without atomics (loop thread only): 8 bytes of every
    // channel where a shared_ptr takes 16.
    struct counts : boost::intrusive_ref_counter<counts, boost::thread_unsafe_counter> {
        std::size_t commands = 0;
        std::size_t bytes = 0;
    };

public:
    /// One command, counted until end() or until the last copy of its ticket is gone, whichever comes first
    /// (a hook may keep its answer handler after answering). Tickets may outlive the channel.
    class ticket {
    public:
        ticket(boost::intrusive_ptr<counts> c, std::size_t bytes) : counts_(std::move(c)), bytes_(bytes)
        {
            ++counts_->commands;
            counts_->bytes += bytes_;
        }
        ticket(ticket const&) = delete;
        ticket& operator=(ticket const&) = delete;
        ~ticket() { end(); }

        void end() noexcept
        {
            if (!counts_)
                return;
            --counts_->commands;
            counts_->bytes -= bytes_;
            counts_.reset();
        }

    private:
        boost::intrusive_ptr<counts> counts_;
        std::size_t bytes_;
    };
    using ticket_ptr = std::shared_ptr<ticket>;

    /// A ticket for a command of `bytes` (its text), or null when another one would pass `max_commands` or
    /// `max_bytes`; with none pending, any command fits.
    ticket_ptr begin(std::size_t bytes, std::size_t max_commands, std::size_t max_bytes)
    {
        if (!counts_)
            counts_ = new counts;
        if (counts_->commands > 0 && (counts_->commands >= max_commands || counts_->bytes + bytes > max_bytes))
            return nullptr;
        return std::make_shared<ticket>(counts_, bytes);
    }

    std::size_t commands() const noexcept { return counts_ ? counts_->commands : 0; }

    /// Frees the counts while no ticket holds them (an idle connection's ~50 bytes).
    void trim() noexcept
    {
        if (counts_ && counts_->use_count() == 1)
            counts_.reset();
    }

private:
    boost::intrusive_ptr<counts> counts_;  // made by the first command
};

}  // namespace switchboard::websocket
