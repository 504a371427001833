#include "http/service_route.hpp"

#include "core/hook_guard.hpp"
#include "server_context.hpp"

#include <switchboard/error.hpp>

#include <stdexcept>
#include <vector>

namespace switchboard {

namespace {
identity_ptr const no_identity;
std::string const no_address;
}  // namespace

http_responder::http_responder(std::shared_ptr<detail::route_call> call) noexcept : call_(std::move(call)) {}

http_responder& http_responder::operator=(http_responder&& other) noexcept
{
    if (this != &other) {
        drop();
        call_ = std::move(other.call_);
    }
    return *this;
}

http_responder::~http_responder()
{
    drop();
}

void http_responder::drop()
{
    // An answer nobody will make any more: the client learns it now rather than waiting for a timeout.
    if (auto call = std::move(call_))
        call->fail(error::internal_error, "the route's handler dropped its answer");
}

bool http_responder::send(http_response res)
{
    return call_ && call_->answer(std::move(res));
}

bool http_responder::pending() const noexcept
{
    return call_ && call_->pending();
}

http_request const& http_responder::request() const
{
    if (!pending())
        throw std::logic_error("switchboard: http_responder::request() after the request was answered");
    return call_->request();
}

identity_ptr const& http_responder::identity() const noexcept
{
    return call_ ? call_->identity() : no_identity;
}

std::string const& http_responder::remote_address() const noexcept
{
    return call_ ? call_->remote_address() : no_address;
}

}  // namespace switchboard

namespace switchboard::detail {

route_call::route_call(std::shared_ptr<exchange> conn, service_routes& owner)
    : conn_(std::move(conn))
    , owner_(owner)
    , identity_(conn_->identity())
    , remote_address_(conn_->remote_address())
    , deadline_(owner.executor_)
{
}

void route_call::begin(std::chrono::milliseconds timeout)
{
    owner_.pending_.insert(this);
    if (timeout.count() > 0) {
        deadline_.expires_after(timeout);
        deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            if (auto self = weak.lock(); self && !ec)
                self->fail(error::internal_error, "the route's handler did not answer within its timeout");
        });
    }
    // The server reads nothing while the handler works: without this watch a client that left would keep its
    // connection (and its slot in the limits) until the answer or the timeout.
    conn_->watch_for_departure(*this);
}

std::shared_ptr<exchange> route_call::settle()
{
    if (!conn_)
        return nullptr;
    owner_.pending_.erase(this);
    deadline_.cancel();
    conn_->stop_watching();
    return std::move(conn_);
}

bool route_call::answer(http_response res)
{
    auto conn = settle();
    if (!conn)
        return false;
    res.keep_alive(conn->request().keep_alive());
    res.prepare_payload();
    conn->respond(std::move(res));
    return true;
}

void route_call::fail(boost::system::error_code ec, std::string_view why)
{
    if (auto conn = settle())
        conn->respond_error(ec, why);
}

route_call::~route_call()
{
    if (conn_)
        conn_->stop_watching();  // its exchange holds it by a plain pointer
}

void route_call::departed()
{
    auto const self = shared_from_this();  // settling may let it go
    if (auto conn = settle())
        conn->abandon();
}

route service_routes::make(route_options const& options, server::async_route_handler handler)
{
    route r;
    r.methods = options.methods;
    if (options.secured)
        r.secured_as = "route";
    r.action = [this, timeout = options.timeout, h = std::move(handler)](std::shared_ptr<exchange> const& conn) {
        auto call = std::make_shared<route_call>(conn, *this);
        call->begin(timeout);
        try {
            h(conn->request(), http_responder(call));
        } catch (...) {
            // The responder, unless the handler moved it elsewhere, answered 500 as it was destroyed.
            log_hook_exception("route handler");
            call->fail(error::internal_error);
        }
    };
    return r;
}

route service_routes::make(server::route_handler handler)
{
    namespace http = boost::beast::http;
    return {{http::verb::get, http::verb::head, http::verb::post},
            [h = std::move(handler)](std::shared_ptr<exchange> const& conn) {
                http_response res;
                try {
                    res = h(conn->request());
                } catch (...) {
                    log_hook_exception("route handler");
                    return conn->respond_error(error::internal_error);
                }
                res.keep_alive(conn->request().keep_alive());
                res.prepare_payload();
                conn->respond(std::move(res));
            }};
}

void service_routes::stop()
{
    // fail() leaves the set: walk a copy.
    std::vector<route_call*> owed(pending_.begin(), pending_.end());
    for (auto* call : owed)
        call->fail(error::shutting_down);
}

}  // namespace switchboard::detail
