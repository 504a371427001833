#include "support/test_certificate.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace switchboard::test {

namespace {

template <class T, void (*Free)(T*)>
struct freer {
    void operator()(T* p) const { Free(p); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using cert_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;

void check(bool ok, char const* what)
{
    if (!ok)
        throw std::runtime_error(std::string("test certificate: ") + what);
}

key_ptr make_key()
{
    key_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EC key generation failed");
    return key;
}

void write_key(EVP_PKEY* key, std::filesystem::path const& file)
{
    FILE* f = std::fopen(file.c_str(), "w");
    check(f != nullptr, "cannot write the key file");
    bool const ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    std::fclose(f);
    check(ok, "PEM_write_PrivateKey failed");
}

void add_extension(X509* cert, int nid, char const* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, "extension refused");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

}  // namespace

test_certificate::test_certificate()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "switchboard-tls-XXXXXX").string();
    check(::mkdtemp(pattern.data()) != nullptr, "cannot make a temporary directory");
    directory_ = pattern;
    cert_file_ = directory_ / "cert.pem";
    key_file_ = directory_ / "key.pem";
    other_key_file_ = directory_ / "other-key.pem";

    auto key = make_key();
    cert_ptr cert(X509_new());
    check(cert != nullptr, "X509_new failed");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing failed");

    FILE* f = std::fopen(cert_file_.c_str(), "w");
    check(f != nullptr, "cannot write the certificate file");
    bool const ok = PEM_write_X509(f, cert.get()) == 1;
    std::fclose(f);
    check(ok, "PEM_write_X509 failed");
    write_key(key.get(), key_file_);
    write_key(make_key().get(), other_key_file_);
}

test_certificate::~test_certificate()
{
    std::error_code ec;
    std::filesystem::remove_all(directory_, ec);
}

}  // namespace switchboard::test
