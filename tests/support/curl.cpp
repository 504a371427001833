#include "support/curl.hpp"

#include "support/run_until.hpp"
#include "support/server_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

namespace switchboard::test {

curl_answer curl(boost::asio::io_context& ioc, std::string const& url, std::vector<std::string> const& extra)
{
    using namespace std::chrono_literals;
    std::vector<std::string> args{"--silent", "--show-error", "--max-time", "20", "-o", "-", "-w",
                                  "\n%{http_code} %{http_version}"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url);
    server_process process("curl", args);
    curl_answer a;
    EXPECT_TRUE(run_until(ioc, [&] { return process.exit_status().has_value(); }, 30s)) << "curl did not finish";
    a.output = process.output();
    // The last line is what -w wrote: the status and the HTTP version.
    auto const last = a.output.rfind('\n');
    if (last == std::string::npos)
        return a;
    a.body = a.output.substr(0, last);
    auto const tail = a.output.substr(last + 1);
    auto const space = tail.find(' ');
    a.status = std::atoi(tail.substr(0, space).c_str());
    a.version = space == std::string::npos ? "" : tail.substr(space + 1);
    return a;
}

}  // namespace switchboard::test
