#include <switchboard/hooks.hpp>

namespace switchboard {

publish_request::publish_request(std::string const& topic_, std::string& data, channel* origin_,
                                 std::string const& remote_address_) noexcept
    : topic(topic_), origin(origin_), remote_address(remote_address_), data_(data)
{
}

nlohmann::json const& publish_request::data_json() const
{
    if (!parsed_)
        parsed_ = nlohmann::json::parse(data_, nullptr, /*allow_exceptions=*/false);
    return *parsed_;
}

void publish_request::replace_data(nlohmann::json const& value)
{
    replace_data_text(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void publish_request::replace_data_text(std::string json_text)
{
    data_ = std::move(json_text);
    parsed_.reset();
    replaced_ = true;
}

}  // namespace switchboard
