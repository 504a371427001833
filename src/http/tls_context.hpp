#pragma once
// The server's TLS settings as an OpenSSL context: the certificate chain and key from server_options, TLS 1.2
// minimum (1.3 preferred by OpenSSL's negotiation), forward-secret AEAD ciphers only, no renegotiation, no
// compression, session tickets on. Built at start and on reload; connections keep the context they began with.

#include <switchboard/server_options.hpp>

#include <memory>

namespace boost::asio::ssl {
class context;
}

namespace switchboard::detail {

/// Null when options.tls_cert_file is empty. Throws std::runtime_error naming the file that could not be read
/// or does not match (a key that is not the certificate's).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(server_options const& options);

}  // namespace switchboard::detail
