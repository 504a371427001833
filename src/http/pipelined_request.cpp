#include "http/pipelined_request.hpp"

#include "http/http_connection.hpp"

#include <utility>

namespace switchboard::detail {

pipelined_request::pipelined_request(std::shared_ptr<http_connection> conn, server_context& ctx, std::uint64_t place,
                                     http_request request, query parameters, identity_ptr who,
                                     std::unique_ptr<std::string> cors_origin)
    : exchange(ctx, conn->packed_remote_address()),
      conn_(std::move(conn)),
      place_(place),
      request_(std::move(request)),
      query_(std::move(parameters))
{
    identity_ = std::move(who);
    cors_origin_ = std::move(cors_origin);
}

void pipelined_request::respond(http_response res)
{
    if (std::exchange(answered_, true))
        return;  // one answer per request: a second would take another request's place
    conn_->answer_in_line(place_, std::move(res), request_, cors_origin());
}

bool pipelined_request::secure() const noexcept
{
    return conn_->secure();
}

void pipelined_request::abandon()
{
    answered_ = true;
    conn_->abandon();
}

}  // namespace switchboard::detail
