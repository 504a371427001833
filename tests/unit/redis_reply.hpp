#pragma once
// Hand-made hiredis replies for the Redis backplane's unit tests: what Redis would answer, without a Redis.

#include <hiredis/hiredis.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {

/// A reply and everything it points to.
class fake_reply {
public:
    static fake_reply string(std::string s) { return text(REDIS_REPLY_STRING, std::move(s)); }
    static fake_reply error(std::string s) { return text(REDIS_REPLY_ERROR, std::move(s)); }
    static fake_reply integer(long long v)
    {
        fake_reply out;
        out.reply_->type = REDIS_REPLY_INTEGER;
        out.reply_->integer = v;
        return out;
    }
    static fake_reply array(std::vector<fake_reply> elements)
    {
        fake_reply out;
        out.reply_->type = REDIS_REPLY_ARRAY;
        out.children_ = std::move(elements);
        for (auto& c : out.children_)
            out.pointers_.push_back(c.get());
        out.reply_->elements = out.pointers_.size();
        out.reply_->element = out.pointers_.data();
        return out;
    }

    redisReply* get() const { return reply_.get(); }

private:
    fake_reply() : reply_(std::make_unique<redisReply>()) {}
    static fake_reply text(int type, std::string s)
    {
        fake_reply out;
        out.text_ = std::make_unique<std::string>(std::move(s));
        out.reply_->type = type;
        out.reply_->str = out.text_->data();
        out.reply_->len = out.text_->size();
        return out;
    }

    std::unique_ptr<redisReply> reply_;
    std::unique_ptr<std::string> text_;
    std::vector<fake_reply> children_;
    std::vector<redisReply*> pointers_;
};

}  // namespace switchboard::test
