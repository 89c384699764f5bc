#include "tools/signetd/audit_handler.h"

#include <catch2/catch.hpp>

#include <future>
#include <vector>

#include "signer/audit/query.h"
#include "tests/signer/audit/audit_test_util.h"
#include "tests/support/openssl_cli.h"

namespace signet {
namespace {

namespace pb = ipc::pb;

// A stand-in for the Minter's handler (this is a unit test of the decorator alone): the first
// item is granted with a fixed token, every other item is refused.
class FixedHandler : public ipc::RequestHandler {
 public:
  void Handle(const ipc::Caller&, pb::Request request, ipc::ResponseCallback done) override {
    pb::Response response;
    for (int i = 0; i < request.mint_access_token().items_size(); ++i) {
      pb::AccessTokenResult* item = response.mutable_mint_access_token()->add_items();
      if (i == 0) {
        item->mutable_token()->set_token("header.claims.signature");
        item->mutable_token()->set_key_id("jwt-1");
        item->mutable_token()->set_jti("jti-1");
      } else {
        item->mutable_error()->set_code("permission_denied");
        item->mutable_error()->set_message("subject is not granted");
      }
    }
    done(std::move(response));
  }
};

pb::Request TwoAccessTokens() {
  pb::Request request;
  for (const char* sub : {"spiffe://example.org/user/alice", "spiffe://example.org/admin"}) {
    pb::AccessTokenParams* item = request.mutable_mint_access_token()->add_items();
    item->set_subject(sub);
    item->add_audience("https://api.example.org");
    item->set_client_id("agent");
    item->add_actors()->set_subject("spiffe://example.org/agent/current");
    item->add_actors()->set_subject("spiffe://example.org/agent/first");
  }
  return request;
}

// Hands `request` to `handler` as the identity server's caller and waits for the answer.
pb::Response HandleAndWait(AuditingHandler& handler, pb::Request request) {
  std::promise<pb::Response> answered;
  handler.Handle(ipc::Caller{"spiffe://example.org/idp", 1}, std::move(request),
                 [&answered](pb::Response response) { answered.set_value(std::move(response)); });
  return answered.get_future().get();
}

TEST_CASE("auditing handler records every item before releasing the response") {
  testing::TempDir dir;
  auto log = audit::testing::OpenOrDie(audit::testing::LogOptions(dir.path() + "/audit"));
  FixedHandler inner;
  AuditingHandler handler(inner, *log, "ca-1");

  pb::Response response = HandleAndWait(handler, TwoAccessTokens());

  REQUIRE(response.mint_access_token().items_size() == 2);
  CHECK(response.mint_access_token().items(0).token().token() == "header.claims.signature");
  CHECK(response.mint_access_token().items(1).error().code() == "permission_denied");

  std::vector<audit::AuditRecord> records;
  StatusOr<audit::QueryStats> stats = audit::QueryLog(
      dir.path() + "/audit", audit::QueryFilter{},
      [&records](const audit::AuditRecord& r, std::string_view) { records.push_back(r); });
  REQUIRE(stats.ok());
  REQUIRE(records.size() == 2);
  CHECK(records[0].op == "access_token");
  CHECK(records[0].caller == "spiffe://example.org/idp");
  CHECK(records[0].subject == "spiffe://example.org/user/alice");
  CHECK(records[0].granted);
  CHECK(records[0].key == "jwt-1");
  CHECK(records[0].jti == "jti-1");
  REQUIRE(records[0].act.size() == 2);
  CHECK(records[0].act[0].sub == "spiffe://example.org/agent/current");
  CHECK(records[0].act[1].sub == "spiffe://example.org/agent/first");
  CHECK(records[0].digest == audit::Sha256Hex("header.claims.signature"));
  CHECK_FALSE(records[1].granted);
  CHECK(records[1].reason == "permission_denied: subject is not granted");
}

// Answers every request with one error for the whole request, as a server does when the
// request cannot be served at all.
class RefusingHandler : public ipc::RequestHandler {
 public:
  void Handle(const ipc::Caller&, pb::Request, ipc::ResponseCallback done) override {
    done(ipc::ErrorResponse(Status(Code::kUnavailable, "no JWT key is active")));
  }
};

TEST_CASE("auditing handler writes no record for a request refused as a whole") {
  testing::TempDir dir;
  auto log = audit::testing::OpenOrDie(audit::testing::LogOptions(dir.path() + "/audit"));
  RefusingHandler inner;
  AuditingHandler handler(inner, *log, "");

  pb::Response response = HandleAndWait(handler, TwoAccessTokens());
  CHECK(response.error().message() == "no JWT key is active");
  CHECK(log->health().records_written == 0);
}

TEST_CASE("auditing handler passes requests that mint nothing straight through") {
  testing::TempDir dir;
  auto log = audit::testing::OpenOrDie(audit::testing::LogOptions(dir.path() + "/audit"));
  FixedHandler inner;
  AuditingHandler handler(inner, *log, "");

  pb::Request request;
  request.mutable_get_jwks();
  bool answered = false;
  handler.Handle(ipc::Caller{"spiffe://example.org/idp", 1}, request,
                 [&answered](pb::Response) { answered = true; });
  CHECK(answered);
  CHECK(log->health().records_written == 0);
}

}  // namespace
}  // namespace signet
