#include "support/jwt_maker.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace switchboard::test {
namespace {

std::string bio_text(BIO* bio)
{
    char* data = nullptr;
    long const n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string signing_input(std::string const& alg, nlohmann::json const& claims)
{
    return base64url(nlohmann::json{{"alg", alg}, {"typ", "JWT"}}.dump()) + "." + base64url(claims.dump());
}

}  // namespace

std::string base64url(std::string const& bytes)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (unsigned char c : bytes) {
        bits = (bits << 8) | c;
        count += 8;
        while (count >= 6) {
            count -= 6;
            out.push_back(alphabet[(bits >> count) & 0x3F]);
        }
    }
    if (count > 0)
        out.push_back(alphabet[(bits << (6 - count)) & 0x3F]);
    return out;
}

rsa_key_pair make_rsa_key()
{
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
    if (!key)
        throw std::runtime_error("RSA key generation failed");
    rsa_key_pair out;
    std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), BIO_free);
    if (!PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
        !PEM_write_bio_PUBKEY(pub.get(), key.get()))
        throw std::runtime_error("PEM encoding failed");
    out.private_pem = bio_text(priv.get());
    out.public_pem = bio_text(pub.get());
    return out;
}

std::string make_hs256(nlohmann::json const& claims, std::string const& secret)
{
    auto const input = signing_input("HS256", claims);
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<unsigned char const*>(input.data()), input.size(), mac.data(), &length);
    return input + "." + base64url(std::string(reinterpret_cast<char const*>(mac.data()), length));
}

std::string make_rs256(nlohmann::json const& claims, std::string const& private_pem)
{
    auto const input = signing_input("RS256", claims);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())),
                                                  BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                                            EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t length = 0;
    if (!key || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(md.get(), nullptr, &length, reinterpret_cast<unsigned char const*>(input.data()), input.size()) != 1)
        throw std::runtime_error("RS256 signing failed");
    std::string signature(length, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<unsigned char const*>(input.data()), input.size()) != 1)
        throw std::runtime_error("RS256 signing failed");
    signature.resize(length);
    return input + "." + base64url(signature);
}

std::string make_unsigned(nlohmann::json const& header, nlohmann::json const& claims, std::string const& signature)
{
    return base64url(header.dump()) + "." + base64url(claims.dump()) + "." + base64url(signature);
}

std::int64_t unix_time(std::chrono::seconds offset)
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               (std::chrono::system_clock::now() + offset).time_since_epoch())
        .count();
}

}  // namespace switchboard::test
