#pragma once
// curl, a third-party HTTP client (HTTP/1.1 and HTTP/2), run as a child process to its end.

#include <boost/asio/io_context.hpp>

#include <string>
#include <vector>

namespace switchboard::test {

struct curl_answer {
    int status = 0;       // 0 when curl gave none (it failed, or ran past its deadline)
    std::string version;  // curl's %{http_version}: "1.1", or "2" over HTTP/2
    std::string body;
    std::string output;   // all curl wrote, for messages
};

/// curl `url` with `extra` arguments before it (e.g. --http2-prior-knowledge, -X POST, --data-binary), running
/// `ioc` (the server in the test's process) until curl exits: 20 s for the request, 30 s in all.
curl_answer curl(boost::asio::io_context& ioc, std::string const& url, std::vector<std::string> const& extra = {});

}  // namespace switchboard::test
