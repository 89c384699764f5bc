#include "tools/signetd/logging_handler.h"

#include <catch2/catch.hpp>

#include <future>
#include <string>

namespace signet {
namespace {

namespace pb = ipc::pb;

// A stand-in for the Minter's handler (a unit test of the decorator alone): every JWT-SVID
// item but the last is signed by "jwt-1", the last is refused; every X.509-SVID is issued.
class FixedHandler : public ipc::RequestHandler {
 public:
  void Handle(const ipc::Caller&, pb::Request request, ipc::ResponseCallback done) override {
    pb::Response response;
    int jwt_items = request.mint_jwt_svid().items_size();
    for (int i = 0; i < jwt_items; ++i) {
      pb::JwtSvidResult* item = response.mutable_mint_jwt_svid()->add_items();
      if (i + 1 < jwt_items) {
        item->mutable_svid()->set_key_id("jwt-1");
      } else {
        item->mutable_error()->set_code("permission_denied");
      }
    }
    for (int i = 0; i < request.issue_x509_svid().items_size(); ++i) {
      response.mutable_issue_x509_svid()->add_items()->mutable_svid();
    }
    done(std::move(response));
  }
};

pb::Request JwtSvids(int count) {
  pb::Request request;
  for (int i = 0; i < count; ++i) {
    request.mutable_mint_jwt_svid()->add_items()->set_spiffe_id("spiffe://example.org/a");
  }
  return request;
}

pb::Response HandleAndWait(LoggingHandler& handler, pb::Request request) {
  std::promise<pb::Response> answered;
  handler.Handle(ipc::Caller{"spiffe://example.org/idp", 1}, std::move(request),
                 [&answered](pb::Response response) { answered.set_value(std::move(response)); });
  return answered.get_future().get();
}

TEST_CASE("logging handler counts credentials by operation and key, refusals by code") {
  FixedHandler inner;
  ipc::MetricsRegistry metrics;
  int x509_kid_asked = 0;
  LoggingHandler handler(inner, &metrics, [&x509_kid_asked] {
    ++x509_kid_asked;
    return std::string("ca-2");
  });

  HandleAndWait(handler, JwtSvids(3));
  HandleAndWait(handler, JwtSvids(2));
  pb::Request x509;
  x509.mutable_issue_x509_svid()->add_items();
  HandleAndWait(handler, x509);

  CHECK(metrics.Value("signet_credentials_total", {{"op", "mint_jwt_svid"}, {"kid", "jwt-1"}}) ==
        3);
  CHECK(metrics.Value("signet_item_errors_total",
                      {{"op", "mint_jwt_svid"}, {"code", "permission_denied"}}) == 2);
  CHECK(metrics.Value("signet_credentials_total", {{"op", "issue_x509_svid"}, {"kid", "ca-2"}}) ==
        1);
  CHECK(x509_kid_asked == 1);
}

}  // namespace
}  // namespace signet
