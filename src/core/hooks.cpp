#include <switchboard/hooks.hpp>

namespace switchboard {

publish_request::publish_request(std::string topic_, std::string data, channel_ptr origin_,
                                 std::string remote_address_) noexcept
    : topic(std::move(topic_)), origin(std::move(origin_)), remote_address(std::move(remote_address_)),
      data_(std::move(data))
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
