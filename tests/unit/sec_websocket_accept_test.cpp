// The server writes its 101 itself: the accept value must be RFC 6455's for the RFC's own example key, and
// Python's hashlib and base64 for another.

#include "websocket/sec_websocket_accept.hpp"

#include <gtest/gtest.h>

namespace {

using switchboard::websocket::sec_websocket_accept;

TEST(sec_websocket_accept, is_the_rfcs_for_its_example_key_and_pythons_for_another)
{
    EXPECT_EQ(sec_websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 1.3
    // base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    EXPECT_EQ(sec_websocket_accept("AQIDBAUGBwgJCgsMDQ4PEA=="), "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
}

}  // namespace
