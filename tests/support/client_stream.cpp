#include "support/client_stream.hpp"

#include <openssl/ssl.h>

namespace switchboard::test {

boost::asio::ssl::context& client_tls_context()
{
    static boost::asio::ssl::context context = [] {
        boost::asio::ssl::context c(boost::asio::ssl::context::tls_client);
        SSL_CTX_set_min_proto_version(c.native_handle(), TLS1_2_VERSION);
        c.set_verify_mode(boost::asio::ssl::verify_none);
        return c;
    }();
    return context;
}

}  // namespace switchboard::test
