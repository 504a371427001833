#pragma once
// Base64 by OpenSSL (EVP_EncodeBlock), not by the server's encoder: what tests compare binary payloads with.
// Header-only; the test support library links OpenSSL.

#include <openssl/evp.h>

#include <string>

namespace switchboard::test {

inline std::string openssl_base64(std::string const& bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int const n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<unsigned char const*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

}  // namespace switchboard::test
