#pragma once
// Built-in JSON Web Token verification (RFC 7519) with OpenSSL: HS256 (a shared secret) and RS256 (an RSA public
// key), the signature checked before any claim is believed; then "exp" and "nbf" (with leeway), and "aud" and
// "iss" when configured. The token's "alg" must be one this verifier has a key for: "none" and any algorithm
// confusion (an HS256 token "signed" with the RSA public key) are refused.
//
// Thread-safety: verify() is const and may run on any thread; building one parses the PEM key.

#include <switchboard/identity.hpp>
#include <switchboard/security_options.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace switchboard::detail {

class jwt_verifier {
public:
    /// Throws std::invalid_argument when jwt_public_key is set but is not an RSA public key in PEM.
    explicit jwt_verifier(security_options const& options);
    ~jwt_verifier();
    jwt_verifier(jwt_verifier const&) = delete;
    jwt_verifier& operator=(jwt_verifier const&) = delete;

    /// True when a secret or a public key is configured.
    bool configured() const noexcept;

    /// Checks `token` at time `now`. On success fills `who` (user = "sub", every claim, expiry); on failure
    /// returns error::unauthorized or error::token_expired with a message for the client in `why`.
    boost::system::error_code verify(std::string_view token, std::chrono::system_clock::time_point now,
                                     identity& who, std::string& why) const;

private:
    struct key;
    std::string secret_;
    std::unique_ptr<key> public_key_;
    std::string audience_;
    std::string issuer_;
    std::chrono::seconds leeway_;
};

/// base64url without padding (RFC 4648 section 5), strict: false on any other character or a bad length.
bool decode_base64url(std::string_view in, std::string& out);

}  // namespace switchboard::detail
