#pragma once
// A self-signed certificate made at test time (OpenSSL's C API, no CLI): an EC P-256 key and a certificate for
// "localhost" and 127.0.0.1, valid for a day, written as PEM files into a fresh directory under the system's
// temporary directory that is removed with the object.

#include <filesystem>

namespace switchboard::test {

class test_certificate {
public:
    test_certificate();
    ~test_certificate();
    test_certificate(test_certificate const&) = delete;
    test_certificate& operator=(test_certificate const&) = delete;

    std::filesystem::path const& cert_file() const { return cert_file_; }
    std::filesystem::path const& key_file() const { return key_file_; }
    // A key of its own that is not the certificate's (for mismatch tests).
    std::filesystem::path const& other_key_file() const { return other_key_file_; }
    std::filesystem::path const& directory() const { return directory_; }

private:
    std::filesystem::path directory_;
    std::filesystem::path cert_file_;
    std::filesystem::path key_file_;
    std::filesystem::path other_key_file_;
};

}  // namespace switchboard::test
