#include "http/tls_context.hpp"

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>
#include <string>

namespace switchboard::detail {
namespace {

// Mozilla's "intermediate" TLS 1.2 suites: ECDHE key exchange and AEAD only. TLS 1.3 suites are all strong
// and keep OpenSSL's defaults.
constexpr char const* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_reason()
{
    unsigned long const e = ERR_get_error();
    ERR_clear_error();
    if (e == 0)
        return "unknown error";
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    return text;
}

// On: SSE is served over HTTP/2 streams, so a browser or curl that picks h2 gets every route over it. WebSocket
// over HTTPS stays on HTTP/1.1: without RFC 8441 a browser opens wss:// on a connection of its own, offering
// http/1.1 only.
constexpr bool alpn_offers_h2 = true;

// ALPN (RFC 7301): h2 first, then http/1.1 (the server's preference: a client that offers both speaks HTTP/2);
// `arg` is null when HTTP/2 is off. A client whose list has neither goes on without ALPN, as HTTP/1.1.
int select_protocol(SSL*, unsigned char const** out, unsigned char* out_size, unsigned char const* in,
                    unsigned int in_size, void* arg)
{
    static constexpr unsigned char both[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char const* ours = arg ? both : both + 3;
    unsigned int const ours_size = arg ? sizeof both : sizeof both - 3;
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, out_size, ours, ours_size, in, in_size) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

[[noreturn]] void fail(std::string const& what, std::string const& file)
{
    throw std::runtime_error("TLS: " + what + " " + file + ": " + openssl_reason());
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_tls_context(server_options const& options)
{
    if (options.tls_cert_file.empty() && options.tls_key_file.empty())
        return nullptr;
    if (options.tls_cert_file.empty() || options.tls_key_file.empty())
        throw std::runtime_error("TLS needs both a certificate file and a key file (tls_cert_file, tls_key_file)");

    auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    ERR_clear_error();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // OpenSSL's record buffers (~34 KiB) are given back while a connection is idle. A write takes one record at a
    // time (tls_stream's writes are write_some), and a retried one may come from another address.
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1)
        throw std::runtime_error("TLS: cipher list refused: " + openssl_reason());
    static int http2_on = 1;
    SSL_CTX_set_alpn_select_cb(native, &select_protocol, alpn_offers_h2 && options.http2.enabled ? &http2_on : nullptr);
    if (SSL_CTX_use_certificate_chain_file(native, options.tls_cert_file.c_str()) != 1)
        fail("cannot load the certificate chain (PEM) from", options.tls_cert_file);
    auto const mismatch = [&] {
        fail("the private key " + options.tls_key_file + " does not match the certificate in", options.tls_cert_file);
    };
    if (SSL_CTX_use_PrivateKey_file(native, options.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            mismatch();
        fail("cannot load the private key (PEM) from", options.tls_key_file);
    }
    if (SSL_CTX_check_private_key(native) != 1)
        mismatch();
    return ctx;
}

}  // namespace switchboard::detail
