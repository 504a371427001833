// examples/chat: a chat for browsers on switchboard.js. Each room is a topic ("chat.<room>"); every message
// carries its sender's nickname; joining a room shows its history, because the page subscribes with
// {history: true}, a resume from the start of what the server keeps. Open the page in three windows, forcing
// one transport each (?transport=websocket, ?transport=sse, ?transport=long-polling): they talk to each other.
//
//   switchboard-chat [port]      then open http://127.0.0.1:PORT/ (default port 8082; 0 picks a free one)
//
// The server checks what clients publish (a hook): only to chat.* topics, {nick, text} of bounded length;
// it stamps the server's time on each message. History: the last 500 messages of a room, for a day.
// Each room shows who is in it (presence): the page sends its nickname as its token, and the authenticate hook
// makes it the client's user and its presence info, {"nick": N}. A real service resolves a session there.

#include "chat_page.hpp"

#include <switchboard/error.hpp>
#include <switchboard/switchboard.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>

namespace {

bool is_short_string(nlohmann::json const& v, std::size_t max)
{
    return v.is_string() && !v.get_ref<std::string const&>().empty() && v.get_ref<std::string const&>().size() <= max;
}

}  // namespace

int main(int argc, char** argv)
{
    boost::asio::io_context ioc;
    switchboard::server_options options;
    options.port = argc > 1 ? static_cast<std::uint16_t>(std::atoi(argv[1])) : 8082;
    options.history.overrides.push_back({"chat.", {500, std::chrono::hours(24)}});
    if (char const* token = std::getenv("SWITCHBOARD_ADMIN_TOKEN"))
        options.admin_token = token;  // for POST /admin/disconnect
    switchboard::server sb(ioc, options);

    sb.hooks().on_publish = [](switchboard::publish_request& req) -> boost::system::error_code {
        auto const& d = req.data_json();  // parsed on demand
        if (!req.topic.starts_with("chat.") || !d.is_object() || d.size() != 2 || !d.contains("nick") ||
            !d.contains("text") || !is_short_string(d["nick"], 32) || !is_short_string(d["text"], 2000))
            return switchboard::error::rejected;
        auto stamped = d;
        auto const now = std::chrono::system_clock::now().time_since_epoch();
        stamped["at"] = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
        req.replace_data(stamped);
        return {};
    };
    sb.hooks().authenticate = [](switchboard::auth_request const& req, switchboard::auth_handler done) {
        if (req.token.empty() || req.token.size() > 32)  // the page always sends one
            return done(switchboard::error::unauthorized, {});
        switchboard::identity who;
        who.user = req.token;
        who.authenticated = true;
        who.claims = {{"presence", {{"nick", req.token}}}};  // the member's info in every member list
        done({}, std::move(who));
    };
    sb.hooks().on_subscribe = [](switchboard::channel&, std::string const& topic) -> boost::system::error_code {
        return topic.starts_with("chat.") ? boost::system::error_code{} : switchboard::error::rejected;
    };
    sb.route("/", [](switchboard::http_request const& req) {
        switchboard::http_response res{boost::beast::http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_type, "text/html; charset=utf-8");
        res.body() = std::string(chat_page());
        return res;
    });
    sb.start();

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { sb.stop(); });
    ioc.run();
}
