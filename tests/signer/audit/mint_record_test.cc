// Records built from the Minter's audit fields keep the whole act chain and no token.
#include "signer/audit/mint_record.h"

#include <catch2/catch.hpp>

namespace signet::audit {
namespace {

TEST_CASE("audit record for a minted token keeps the act chain and only a digest", "[audit]") {
  AuditFields fields;
  fields.operation = Operation::kAccessToken;
  fields.caller = "spiffe://example.org/authz";
  fields.kid = "jwt-1";
  fields.subject = "user:smith";
  fields.audiences = {"https://api.example.org"};
  fields.actors = {{"spiffe://example.org/agent/mailer", ""},
                   {"spiffe://example.org/agent/planner", "https://authz.example.org"}};
  fields.jti = "4f1c";
  fields.issued_at = std::chrono::system_clock::from_time_t(1767225600);
  fields.expires_at = fields.issued_at + std::chrono::seconds(300);
  const std::string token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyOnNtaXRoIn0.c2ln";

  AuditRecord record = RecordForMint(fields, AsBytes(token));
  CHECK(record.op == "access_token");
  CHECK(record.key == "jwt-1");
  REQUIRE(record.act.size() == 2);
  CHECK(record.act[0].sub == "spiffe://example.org/agent/mailer");
  CHECK(record.act[1].iss == "https://authz.example.org");
  CHECK(record.ttl_seconds == 300);
  CHECK(record.granted);
  CHECK(record.digest == Sha256Hex(token));

  record.prev = std::string(kZeroHash);
  std::string line = EncodeRecord(record);
  CHECK(line.find(token) == std::string::npos);
  CHECK(line.find("\"jti\":\"4f1c\"") != std::string::npos);
}

TEST_CASE("audit record for a refusal says why and that it was refused", "[audit]") {
  AuditFields requested;
  requested.operation = Operation::kX509Svid;
  requested.caller = "spiffe://example.org/workload";
  requested.subject = "spiffe://example.org/payments";
  AuditRecord record =
      RecordForRefusal(requested, Status(Code::kPermissionDenied, "subject not granted"));
  CHECK_FALSE(record.granted);
  CHECK(record.op == "x509_svid");
  CHECK(record.reason == "permission_denied: subject not granted");
  CHECK(record.digest.empty());
}

}  // namespace
}  // namespace signet::audit
