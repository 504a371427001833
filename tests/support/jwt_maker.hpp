#pragma once
// Tokens and keys for security tests, made with OpenSSL independently of the server's verifier: HS256 and
// RS256 JWTs from any claims, and RSA key pairs generated at test time.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace switchboard::test {

struct rsa_key_pair {
    std::string private_pem;
    std::string public_pem;
};

/// A fresh 2048-bit RSA key pair.
rsa_key_pair make_rsa_key();

/// header.payload.signature with {"alg":"HS256","typ":"JWT"}.
std::string make_hs256(nlohmann::json const& claims, std::string const& secret);
/// The same with RS256, signed by `private_pem`.
std::string make_rs256(nlohmann::json const& claims, std::string const& private_pem);
/// A token with any header (e.g. {"alg":"none"}) and a given raw signature: for forgery tests.
std::string make_unsigned(nlohmann::json const& header, nlohmann::json const& claims, std::string const& signature);

std::string base64url(std::string const& bytes);

/// Seconds since the epoch, now plus `offset`.
std::int64_t unix_time(std::chrono::seconds offset = std::chrono::seconds(0));

}  // namespace switchboard::test
