// The signet-audit tool (the same `audit` commands signetctl registers), run as a
// process the way an auditor would.
#include <catch2/catch.hpp>

#include "signer/audit/log.h"
#include "tests/signer/audit/audit_test_util.h"

namespace signet::audit {
namespace {

using signet::testing::RunCommand;
using signet::testing::TempDir;

const std::string kTool = SIGNET_AUDIT_BIN;

TEST_CASE("signet-audit verify accepts an intact log and names the first bad record", "[audit]") {
  TempDir dir;
  testing::OpensslAuditKey audit_key;
  AuditLog::Options options = testing::LogOptions(dir.path());
  options.checkpoint_key = audit_key.key();
  options.checkpoint_key_id = "audit-1";
  options.checkpoint_every_records = 4;
  {
    auto log = testing::OpenOrDie(options);
    testing::AppendMany(*log, 9);
  }

  std::string out;
  CHECK(RunCommand(
            kTool + " audit verify --dir " + dir.path() + " --key " + audit_key.public_pem_path(),
            &out) == 0);
  INFO(out);
  CHECK(out.find("OK: 11 records in 1 segments") != std::string::npos);
  CHECK(out.find("checkpoints: 2 verified") != std::string::npos);

  // The same key as a JWKS, written by python3-jwt from the openssl PEM.
  std::string jwks = dir.path() + "/jwks.json";
  std::string to_jwks =
      "/usr/bin/python3 -c \"import json, sys; from jwt.algorithms import ECAlgorithm; "
      "from cryptography.hazmat.primitives.serialization import load_pem_public_key; "
      "k = load_pem_public_key(open(sys.argv[1], 'rb').read()); "
      "j = json.loads(ECAlgorithm.to_jwk(k)); j['kid'] = sys.argv[2]; "
      "print(json.dumps({'keys': [j]}))\" ";
  REQUIRE(RunCommand(to_jwks + audit_key.public_pem_path() + " audit-1 > " + jwks, &out) == 0);
  CHECK(RunCommand(kTool + " audit verify --dir " + dir.path() + " --key " + jwks, &out) == 0);
  CHECK(out.find("checkpoints: 2 verified") != std::string::npos);
  REQUIRE(RunCommand(to_jwks + audit_key.public_pem_path() + " audit-0 > " + jwks, &out) == 0);
  CHECK(RunCommand(kTool + " audit verify --dir " + dir.path() + " --key " + jwks, &out) == 1);
  CHECK(out.find("no public key given for checkpoint key 'audit-1'") != std::string::npos);

  std::string segment = dir.path() + "/00000001.jsonl";
  std::vector<std::string> lines = testing::ReadLines(segment);
  lines[2][lines[2].find("user:u")] = 'X';
  testing::WriteLines(segment, lines);
  CHECK(RunCommand(kTool + " audit verify --dir " + dir.path(), &out) == 1);
  INFO(out);
  CHECK(out.find("segment 00000001.jsonl line 3 seq 3: record altered") != std::string::npos);

  CHECK(RunCommand(kTool + " audit verify --dir " + dir.path() + "/absent", &out) == 2);
}

TEST_CASE("signet-audit query prints matching records as JSON Lines or CSV", "[audit]") {
  TempDir dir;
  {
    auto log = testing::OpenOrDie(testing::LogOptions(dir.path()));
    REQUIRE(log->AppendAndWait(testing::TokenRecord("user:smith", {"agent:a", "agent:b"})).ok());
    REQUIRE(log->AppendAndWait(testing::TokenRecord("user:jones", {"agent:a"})).ok());
  }

  std::string out;
  REQUIRE(
      RunCommand(kTool + " audit query --dir " + dir.path() + " --principal agent:b --format csv",
                 &out) == 0);
  INFO(out);
  std::vector<std::string> rows;
  for (size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
    rows.push_back(out.substr(at, end - at));
  }
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].rfind("seq,time,", 0) == 0);
  CHECK(rows[1].find(",user:smith,https://api.example.org,agent:a > agent:b,") !=
        std::string::npos);

  REQUIRE(RunCommand(kTool + " audit query --dir " + dir.path() + " --principal agent:a", &out) ==
          0);
  CHECK(out.find("\"subject\":\"user:smith\"") != std::string::npos);
  CHECK(out.find("\"subject\":\"user:jones\"") != std::string::npos);

  CHECK(RunCommand(kTool + " audit query --dir " + dir.path() + " --since yesterday", &out) == 2);
  CHECK(out.find("not YYYY-MM-DD") != std::string::npos);
}

}  // namespace
}  // namespace signet::audit
