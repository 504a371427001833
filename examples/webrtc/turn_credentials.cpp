#include "turn_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace webrtc_example {

std::string turn_password(std::string_view secret, std::string_view username)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    // An empty key is legal for HMAC; OpenSSL wants a non-null pointer for it.
    static unsigned char const empty = 0;
    auto const* key = secret.empty() ? &empty : reinterpret_cast<unsigned char const*>(secret.data());
    if (!HMAC(EVP_sha1(), key, static_cast<int>(secret.size()),
              reinterpret_cast<unsigned char const*>(username.data()), username.size(), digest, &length))
        throw std::runtime_error("HMAC-SHA1 failed");

    std::string encoded(4 * ((length + 2) / 3), '\0');
    auto const written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest,
                                         static_cast<int>(length));
    encoded.resize(static_cast<std::size_t>(written));
    return encoded;
}

turn_credentials make_turn_credentials(std::string_view secret, std::string_view user,
                                       std::chrono::system_clock::time_point now, std::chrono::seconds ttl)
{
    if (user.find(':') != std::string_view::npos)
        throw std::invalid_argument("TURN user must not contain ':'");
    if (ttl < std::chrono::seconds(1))
        throw std::invalid_argument("TURN credential ttl must be at least one second");
    auto const expiry = std::chrono::floor<std::chrono::seconds>(now) + ttl;
    turn_credentials c;
    c.username = std::to_string(expiry.time_since_epoch().count()) + ":" + std::string(user);
    c.credential = turn_password(secret, c.username);
    c.expiry = expiry;
    return c;
}

}  // namespace webrtc_example
