// The Redis backplane's Lua scripts, each in its own file under src/backplanes/redis/ and embedded at build
// time: what is embedded is the file byte for byte, a real redis-server compiles every file (also through
// `redis-cli --eval`, as a developer checks one by hand), and a redis_backplane loads exactly these scripts
// (their SHA1s are the ones Redis computes from the files).

#include "backplanes/redis/redis_scripts.hpp"
#include "support/redis_process.hpp"
#include "support/run_until.hpp"

#include <switchboard/redis_backplane.hpp>
#include <switchboard/topic.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <iterator>
#include <random>
#include <set>
#include <string>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;

std::filesystem::path const scripts_dir = std::filesystem::path(SWITCHBOARD_SOURCE_DIR) / "src/backplanes/redis";

std::string read_file(std::filesystem::path const& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<std::string> lua_files()
{
    std::set<std::string> out;
    for (auto const& entry : std::filesystem::directory_iterator(scripts_dir))
        if (entry.path().extension() == ".lua")
            out.insert(entry.path().filename().string());
    return out;
}

// redis-cli --eval <file> with no keys and no arguments: what it prints (stdout and stderr).
std::string redis_cli_eval(redis_process const& redis, std::filesystem::path const& file)
{
    std::string const cli = std::filesystem::exists("/usr/bin/redis-cli") ? "/usr/bin/redis-cli" : "redis-cli";
    std::string const command =
        cli + " -h 127.0.0.1 -p " + std::to_string(redis.port()) + " --eval '" + file.string() + "' 2>&1";
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
            out.append(buffer, n);
        ::pclose(pipe);
    }
    return out;
}

std::string sha1_loaded(redis_process const& redis, std::string const& text)
{
    auto reply = redis.command({"SCRIPT", "LOAD", text});
    if (!reply || reply->type != REDIS_REPLY_STRING)
        return "SCRIPT LOAD failed: " + (reply && reply->str ? std::string(reply->str, reply->len) : "no reply");
    return {reply->str, reply->len};
}

TEST(redis_scripts, every_lua_file_is_embedded_byte_for_byte)
{
    std::set<std::string> embedded;
    for (auto const& s : redis::scripts()) {
        embedded.insert(std::string(s.file));
        EXPECT_EQ(s.text, read_file(scripts_dir / s.file)) << s.file << " differs from what the build embedded";
    }
    EXPECT_EQ(embedded, lua_files()) << "a .lua file the backplane does not embed, or one embedded but gone";
}

TEST(redis_scripts, redis_cli_eval_compiles_every_file)
{
    redis_process redis;
    // The check itself: a script that does not compile is reported as such.
    auto const broken = std::filesystem::temp_directory_path() /
                        ("switchboard_broken_script_" + std::to_string(redis.port()) + ".lua");
    std::ofstream(broken) << "local x = \nreturn (";
    EXPECT_NE(redis_cli_eval(redis, broken).find("Error compiling script"), std::string::npos);
    std::filesystem::remove(broken);

    for (auto const& file : lua_files()) {
        // Without keys and arguments each script fails at run time (a nil key), which is fine; not compiling
        // is not.
        auto const out = redis_cli_eval(redis, scripts_dir / file);
        EXPECT_FALSE(out.empty()) << file << ": redis-cli printed nothing";
        EXPECT_EQ(out.find("Error compiling script"), std::string::npos) << file << ":\n" << out;
    }
}

TEST(redis_scripts, the_backplane_loads_exactly_the_files)
{
    redis_process redis;
    std::set<std::string> file_shas;
    for (auto const& file : lua_files()) {
        auto const sha = sha1_loaded(redis, read_file(scripts_dir / file));
        ASSERT_EQ(sha.size(), 40u) << file << ": " << sha;
        file_shas.insert(sha);
    }
    // A fresh script cache, so what is there next is what the backplane loaded.
    auto flushed = redis.command({"SCRIPT", "FLUSH"});
    ASSERT_TRUE(flushed && flushed->type == REDIS_REPLY_STATUS);

    boost::asio::io_context ioc;
    redis_options options;
    options.url = redis.url();
    redis_backplane backplane(ioc.get_executor(), options);
    ASSERT_TRUE(run_until(ioc, [&] { return backplane.connected(); }, 10s));

    std::vector<std::string> exists{"SCRIPT", "EXISTS"};
    exists.insert(exists.end(), file_shas.begin(), file_shas.end());
    auto reply = redis.command(exists);
    ASSERT_TRUE(reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == file_shas.size());
    for (std::size_t i = 0; i < reply->elements; ++i)
        EXPECT_EQ(reply->element[i]->integer, 1) << "the backplane did not load " << exists[2 + i];

    // And it runs them: a publish through the backplane is read back from Redis.
    std::optional<position> published;
    backplane.publish("t", "\"x\"", [&](boost::system::error_code ec, position p) {
        EXPECT_FALSE(ec) << ec.message();
        published = p;
    });
    ASSERT_TRUE(run_until(ioc, [&] { return published.has_value(); }, 10s));
    EXPECT_EQ(published->offset, 1u);
    backplane.close();
    ioc.run_for(1s);
}

std::vector<std::string> strings_of(redisReply const* r)
{
    std::vector<std::string> out;
    if (r && r->type == REDIS_REPLY_ARRAY)
        for (std::size_t i = 0; i < r->elements; ++i)
            out.emplace_back(r->element[i]->str, r->element[i]->len);
    return out;
}

// pattern_history.lua's matcher (Lua) says what pattern_matches (C++) says, on random topics and patterns made of
// few tokens so that they often match. The script names every matched topic of the index whose history is gone
// (here: every one, since no topic has keys), so its `lost` is exactly what its matcher matched.
TEST(redis_scripts, the_pattern_history_matcher_agrees_with_pattern_matches)
{
    redis_process redis;
    std::mt19937 random(20);
    std::vector<std::string> const topic_tokens{"a", "b", "ab", "", "a-b", "x:y"};
    std::vector<std::string> const pattern_tokens{"a", "b", "ab", "*", "*", ">"};
    auto const join = [](std::vector<std::string> const& tokens) {
        std::string out;
        for (std::size_t i = 0; i < tokens.size(); ++i)
            out += (i ? "." : "") + tokens[i];
        return out;
    };
    std::set<std::string> topics;
    while (topics.size() < 300) {
        std::vector<std::string> tokens(1 + random() % 4);
        for (auto& t : tokens)
            t = topic_tokens[random() % topic_tokens.size()];
        if (auto const topic = join(tokens); is_valid_topic(topic))
            topics.insert(topic);
    }
    std::vector<std::string> add{"ZADD", "t:topics"};
    for (auto const& topic : topics) {
        add.push_back("1");
        add.push_back(topic);
    }
    ASSERT_TRUE(redis.command(add));
    ASSERT_TRUE(redis.command({"HSET", "t:sequence", "e", "E", "s", "1", "p", "0"}));

    std::string const script = read_file(scripts_dir / "pattern_history.lua");
    int checked = 0;
    for (int i = 0; checked < 200 && i < 10'000; ++i) {
        std::vector<std::string> tokens(1 + random() % 4);
        for (auto& t : tokens)
            t = pattern_tokens[random() % pattern_tokens.size()];
        auto const pattern = join(tokens);
        if (!is_valid_pattern(pattern))
            continue;
        ++checked;
        auto reply = redis.command({"EVAL", script, "2", "t:sequence", "t:topics", pattern, "0", "E", "new", "1000",
                                    "1000000", "t:", "300000"});
        ASSERT_TRUE(reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 7)
            << pattern << ": " << (reply && reply->str ? reply->str : "not the answer");
        auto lua = strings_of(reply->element[4]);
        std::sort(lua.begin(), lua.end());
        std::vector<std::string> cpp;
        for (auto const& topic : topics)
            if (pattern_matches(pattern, topic))
                cpp.push_back(topic);
        EXPECT_EQ(lua, cpp) << pattern;
    }
    EXPECT_EQ(checked, 200);
}

}  // namespace
}  // namespace switchboard::test
