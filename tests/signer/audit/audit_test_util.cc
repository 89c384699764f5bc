#include "tests/signer/audit/audit_test_util.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

namespace signet::audit::testing {

AuditRecord TokenRecord(const std::string& subject, std::vector<std::string> agents,
                        const std::string& caller) {
  AuditRecord r;
  r.caller = caller;
  r.op = "access_token";
  r.key = "jwt-2026-12";
  r.subject = subject;
  r.audiences = {"https://api.example.org"};
  for (std::string& agent : agents) {
    r.act.push_back({std::move(agent), "https://authz.example.org"});
  }
  r.jti = "jti-" + subject;
  r.ttl_seconds = 300;
  r.digest = Sha256Hex("token for " + subject);
  return r;
}

AuditLog::Options LogOptions(const std::string& dir) {
  AuditLog::Options options;
  options.dir = dir;
  options.checkpoint_every_records = 0;
  options.checkpoint_interval = std::chrono::milliseconds(0);
  return options;
}

std::unique_ptr<AuditLog> OpenOrDie(AuditLog::Options options) {
  auto log = AuditLog::Open(std::move(options));
  INFO(log.status());
  REQUIRE(log.ok());
  return std::move(log).value();
}

std::vector<uint64_t> AppendMany(AuditLog& log, int count) {
  std::vector<uint64_t> seqs;
  for (int i = 0; i < count; ++i) {
    auto seq = log.AppendAndWait(TokenRecord("user:u" + std::to_string(i)));
    INFO(seq.status());
    REQUIRE(seq.ok());
    seqs.push_back(*seq);
  }
  return seqs;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const std::string& line : lines) {
    out << line << "\n";
  }
}

OpensslAuditKey::OpensslAuditKey() {
  std::string out;
  int rc = signet::testing::RunCommand(
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + dir_.path() +
          "/audit-1.pem && openssl pkey -in " + dir_.path() + "/audit-1.pem -pubout -out " +
          dir_.path() + "/audit-1.pub.pem",
      &out);
  INFO(out);
  REQUIRE(rc == 0);
  public_pem_ = dir_.path() + "/audit-1.pub.pem";

  backend_ = std::make_unique<SoftwareBackend>(SoftwareBackend::Options{dir_.path(), 1, 16});
  auto key = backend_->LoadKey("software:label=audit-1;alg=ES256");
  INFO(key.status());
  REQUIRE(key.ok());
  key_ = *key;
}

}  // namespace signet::audit::testing
