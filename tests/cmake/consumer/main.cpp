// Starts a server on a free loopback port, publishes one message from C++, checks its position, stops.
#include <switchboard/server.hpp>

#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

int main()
{
    switchboard::server_options options;
    options.port = 0;
    switchboard::server server(options);
    server.start();
    std::uint64_t offset = 0;
    server.publish("consumer.check", {{"hello", "world"}}, [&](boost::system::error_code ec, switchboard::position p) {
        offset = ec ? 0 : p.offset;
        server.stop();
    });
    server.run();
    std::printf("published at offset %llu\n", static_cast<unsigned long long>(offset));
    return offset == 1 ? 0 : 1;
}
