#include "security/jwt_verifier.hpp"

#include <switchboard/error.hpp>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <array>
#include <stdexcept>

namespace switchboard::detail {

struct jwt_verifier::key {
    EVP_PKEY* pkey = nullptr;
    ~key() { EVP_PKEY_free(pkey); }
};

namespace {

int base64url_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

boost::system::error_code refuse(std::string& why, std::string message, error e = error::unauthorized)
{
    why = std::move(message);
    return e;
}

bool verify_hs256(std::string const& secret, std::string_view signed_part, std::string const& signature)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<unsigned char const*>(signed_part.data()), signed_part.size(), mac.data(), &length))
        return false;
    // Constant time, so the comparison leaks nothing about how much of a forged MAC was right.
    return signature.size() == length && CRYPTO_memcmp(mac.data(), signature.data(), length) == 0;
}

bool verify_rs256(EVP_PKEY* pkey, std::string_view signed_part, std::string const& signature)
{
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    if (!md)
        return false;
    bool const ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
                    EVP_DigestVerify(md, reinterpret_cast<unsigned char const*>(signature.data()), signature.size(),
                                     reinterpret_cast<unsigned char const*>(signed_part.data()), signed_part.size()) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

// A NumericDate (seconds since the epoch); false when the claim is there but not a number.
bool read_time(nlohmann::json const& claims, char const* name, std::optional<std::chrono::system_clock::time_point>& out)
{
    auto const it = claims.find(name);
    if (it == claims.end())
        return true;
    if (!it->is_number())
        return false;
    auto const seconds = it->get<double>();
    if (seconds < 0 || seconds > 1e11)  // past year 5000: not a date anyone means
        return false;
    out = std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<std::int64_t>(seconds)));
    return true;
}

}  // namespace

bool decode_base64url(std::string_view in, std::string& out)
{
    if (in.size() % 4 == 1)
        return false;
    out.clear();
    out.reserve(in.size() * 3 / 4);
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : in) {
        int const v = base64url_value(c);
        if (v < 0)
            return false;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xFF));
        }
    }
    return true;
}

jwt_verifier::jwt_verifier(security_options const& options)
    : secret_(options.jwt_secret),
      audience_(options.jwt_audience),
      issuer_(options.jwt_issuer),
      leeway_(options.jwt_leeway)
{
    if (options.jwt_public_key.empty())
        return;
    BIO* bio = BIO_new_mem_buf(options.jwt_public_key.data(), static_cast<int>(options.jwt_public_key.size()));
    if (!bio)
        throw std::invalid_argument("switchboard: cannot read the JWT public key");
    public_key_ = std::make_unique<key>();
    public_key_->pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!public_key_->pkey || EVP_PKEY_base_id(public_key_->pkey) != EVP_PKEY_RSA)
        throw std::invalid_argument("switchboard: the JWT public key must be an RSA public key in PEM");
}

jwt_verifier::~jwt_verifier() = default;

bool jwt_verifier::configured() const noexcept
{
    return !secret_.empty() || public_key_;
}

boost::system::error_code jwt_verifier::verify(std::string_view token, std::chrono::system_clock::time_point now,
                                               identity& who, std::string& why) const
{
    auto const dot1 = token.find('.');
    auto const dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
        return refuse(why, "malformed token: expected header.payload.signature");
    std::string header_text, payload_text, signature;
    if (!decode_base64url(token.substr(0, dot1), header_text) ||
        !decode_base64url(token.substr(dot1 + 1, dot2 - dot1 - 1), payload_text) ||
        !decode_base64url(token.substr(dot2 + 1), signature))
        return refuse(why, "malformed token: bad base64url");

    auto const header = nlohmann::json::parse(header_text, nullptr, false);
    if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string())
        return refuse(why, "malformed token header");
    auto const& alg = header["alg"].get_ref<std::string const&>();
    auto const signed_part = token.substr(0, dot2);
    if (alg == "HS256" && !secret_.empty()) {
        if (!verify_hs256(secret_, signed_part, signature))
            return refuse(why, "token signature does not verify");
    } else if (alg == "RS256" && public_key_) {
        if (!verify_rs256(public_key_->pkey, signed_part, signature))
            return refuse(why, "token signature does not verify");
    } else {
        return refuse(why, "token algorithm not accepted: " + alg.substr(0, 16));
    }

    // Signed by us: now the claims can be believed.
    auto claims = nlohmann::json::parse(payload_text, nullptr, false);
    if (!claims.is_object())
        return refuse(why, "malformed token claims");
    std::optional<std::chrono::system_clock::time_point> expires, not_before;
    if (!read_time(claims, "exp", expires) || !read_time(claims, "nbf", not_before))
        return refuse(why, "token exp or nbf is not a number");
    if (expires && now > *expires + leeway_)
        return refuse(why, "token expired", error::token_expired);
    if (not_before && now + leeway_ < *not_before)
        return refuse(why, "token not valid yet (nbf)");
    if (!audience_.empty()) {
        auto const aud = claims.find("aud");
        bool match = false;
        if (aud != claims.end() && aud->is_string())
            match = *aud == audience_;
        else if (aud != claims.end() && aud->is_array())
            for (auto const& a : *aud)
                match = match || (a.is_string() && a == audience_);
        if (!match)
            return refuse(why, "token audience does not match");
    }
    if (!issuer_.empty()) {
        auto const iss = claims.find("iss");
        if (iss == claims.end() || !iss->is_string() || *iss != issuer_)
            return refuse(why, "token issuer does not match");
    }
    if (auto const sub = claims.find("sub"); sub != claims.end()) {
        if (!sub->is_string())
            return refuse(why, "token sub is not a string");
        who.user = sub->get<std::string>();
    }
    who.expires_at = expires ? std::optional(*expires + leeway_) : std::nullopt;
    who.claims = std::move(claims);
    who.authenticated = true;
    return {};
}

}  // namespace switchboard::detail
