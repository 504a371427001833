#pragma once
// What a proxy backend answered, read: a refusal (an error and its message), or a result object. The result's
// members are read by the step that asked; a replacement publish's data is kept as the backend's text, byte for
// byte, never parsed into values and serialized again.
#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace switchboard::detail {

struct proxy_answer {
    /// A refusal: its switchboard error (a name the backend gave; an unknown one reads as rejected), and the
    /// backend's message. Or error::backend_unavailable when the answer is not one, with what was wrong.
    boost::system::error_code refused;
    std::string message;
    /// The "result" object (empty when the answer had none).
    nlohmann::json result = nlohmann::json::object();
    /// The text of result.data, when there is one, as the backend wrote it.
    std::string data;
    bool has_data = false;
};

/// Reads a backend's answer: HTTP status `status`, body `body`.
proxy_answer read_proxy_answer(unsigned status, std::string_view body);

}  // namespace switchboard::detail
