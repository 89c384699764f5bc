// QueryLog: filters, the act chain, time windows, CSV, and a million records.
#include "signer/audit/query.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "signer/audit/log.h"
#include "tests/signer/audit/audit_test_util.h"

namespace signet::audit {
namespace {

using signet::testing::TempDir;
using testing::OpenOrDie;
using testing::TokenRecord;

std::vector<AuditRecord> Run(const std::string& dir, const QueryFilter& filter) {
  std::vector<AuditRecord> out;
  auto stats =
      QueryLog(dir, filter, [&](const AuditRecord& r, std::string_view) { out.push_back(r); });
  INFO(stats.status());
  REQUIRE(stats.ok());
  return out;
}

std::vector<std::string> Subjects(const std::vector<AuditRecord>& records) {
  std::vector<std::string> out;
  for (const AuditRecord& r : records) {
    out.push_back(r.subject);
  }
  return out;
}

using Field = std::string QueryFilter::*;

// A filter with the given members set.
QueryFilter With(std::initializer_list<std::pair<Field, std::string>> members) {
  QueryFilter filter;
  for (const auto& [field, value] : members) {
    filter.*field = value;
  }
  return filter;
}

// A clock the test moves by hand.
struct ManualClock {
  std::chrono::system_clock::time_point now;
  WallClock fn() {
    return [this] { return now; };
  }
};

TEST_CASE("audit query by principal finds credentials issued on its behalf or through it",
          "[audit]") {
  TempDir dir;
  {
    auto log = OpenOrDie(testing::LogOptions(dir.path()));
    const std::string a = "spiffe://example.org/agent/planner";
    const std::string b = "spiffe://example.org/agent/refunds";
    const std::string c = "spiffe://example.org/agent/mailer";
    REQUIRE(log->AppendAndWait(TokenRecord("user:smith", {c, b, a})).ok());
    REQUIRE(log->AppendAndWait(TokenRecord("user:jones", {a})).ok());
    REQUIRE(log->AppendAndWait(TokenRecord("user:smith")).ok());
    REQUIRE(log->AppendAndWait(TokenRecord("user:smithers", {b})).ok());
    REQUIRE(log->AppendAndWait(TokenRecord("user:lee", {}, "spiffe://example.org/other")).ok());
  }

  CHECK(Subjects(Run(dir.path(), With({{&QueryFilter::principal, "user:smith"}}))) ==
        std::vector<std::string>{"user:smith", "user:smith"});
  // The first actor, three levels deep.
  CHECK(Subjects(Run(dir.path(),
                     With({{&QueryFilter::principal, "spiffe://example.org/agent/planner"}}))) ==
        std::vector<std::string>{"user:smith", "user:jones"});
  CHECK(Subjects(Run(dir.path(),
                     With({{&QueryFilter::principal, "spiffe://example.org/agent/refunds"}}))) ==
        std::vector<std::string>{"user:smith", "user:smithers"});
  CHECK(Subjects(Run(dir.path(),
                     With({{&QueryFilter::subject, "user:smith"},
                           {&QueryFilter::principal, "spiffe://example.org/agent/mailer"}}))) ==
        std::vector<std::string>{"user:smith"});
  CHECK(Subjects(Run(dir.path(), With({{&QueryFilter::caller, "spiffe://example.org/other"}}))) ==
        std::vector<std::string>{"user:lee"});
  CHECK(Run(dir.path(), With({{&QueryFilter::op, "x509_svid"}})).empty());
  CHECK(Run(dir.path(), With({{&QueryFilter::principal, "spiffe://example.org/agent"}})).empty());

  auto smith =
      Run(dir.path(), With({{&QueryFilter::principal, "spiffe://example.org/agent/planner"}}));
  REQUIRE(smith.size() == 2);
  REQUIRE(smith[0].act.size() == 3);
  CHECK(smith[0].act[2].sub == "spiffe://example.org/agent/planner");
  CHECK(smith[0].act[2].iss == "https://authz.example.org");
}

TEST_CASE("audit query honours since and until and writes CSV", "[audit]") {
  TempDir dir;
  ManualClock clock;
  auto point = [](const char* text) {
    auto normal = NormalizeTime(text);
    REQUIRE(normal.ok());
    std::tm tm{};
    strptime(normal->c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    return std::chrono::system_clock::from_time_t(timegm(&tm));
  };
  {
    AuditLog::Options options = testing::LogOptions(dir.path());
    options.clock = clock.fn();
    auto log = OpenOrDie(options);
    clock.now = point("2026-06-30T23:59:59Z");
    REQUIRE(log->AppendAndWait(TokenRecord("user:june")).ok());
    clock.now = point("2026-07-01T00:00:00Z");
    REQUIRE(log->AppendAndWait(TokenRecord("user:july, \"quoted\"")).ok());
    clock.now = point("2026-09-30T12:00:00Z");
    REQUIRE(log->AppendAndWait(TokenRecord("user:september")).ok());
    clock.now = point("2026-10-01T00:00:00Z");
    REQUIRE(log->AppendAndWait(TokenRecord("user:october")).ok());
  }

  QueryFilter q3;
  q3.since = *NormalizeTime("2026-07-01");
  q3.until = *NormalizeTime("2026-10-01");
  auto quarter = Run(dir.path(), q3);
  CHECK(Subjects(quarter) == std::vector<std::string>{"user:july, \"quoted\"", "user:september"});
  CHECK(quarter[0].time == "2026-07-01T00:00:00.000000Z");

  std::string row = CsvRow(quarter[0]);
  CHECK(row.rfind("2,2026-07-01T00:00:00.000000Z,event,spiffe://example.org/authz,"
                  "access_token,jwt-2026-12,\"user:july, \"\"quoted\"\"\",",
                  0) == 0);
  CHECK(CsvHeader().rfind("seq,time,kind,caller,op,key,subject,aud,act,", 0) == 0);

  CHECK_FALSE(NormalizeTime("July 1st").ok());
  CHECK(*NormalizeTime("2026-07-01T12:30:00.25Z") == "2026-07-01T12:30:00.250000Z");
}

TEST_CASE("audit query scans a million records in seconds", "[audit]") {
  TempDir dir;
  constexpr int kRecords = 1000000;
  constexpr int kPerSegment = 125000;
  int expected = 0;

  // Synthetic segments written with the log's own encoding, chained.
  auto start = std::chrono::steady_clock::now();
  std::string prev(kZeroHash);
  const AuditRecord base = TokenRecord("user:template");
  std::ofstream out;
  for (int i = 0; i < kRecords; ++i) {
    if (i % kPerSegment == 0) {
      out = std::ofstream(dir.path() + "/" + SegmentName(i / kPerSegment + 1), std::ios::binary);
    }
    AuditRecord r = base;
    r.subject = "user:u" + std::to_string(i % 5000);
    r.act = {{"spiffe://example.org/agent/a" + std::to_string(i % 97), ""},
             {"spiffe://example.org/agent/b" + std::to_string(i % 89), ""}};
    r.seq = static_cast<uint64_t>(i) + 1;
    r.time = FormatTime(std::chrono::system_clock::from_time_t(1767225600 + i * 10));
    r.prev = prev;
    out << EncodeRecord(r) << '\n';
    prev = r.hash;
    bool in_window = i * 10 >= 86400 * 30;
    expected += (in_window && i % 89 == 7) ? 1 : 0;
  }
  out.close();
  double written = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  QueryFilter filter;
  filter.principal = "spiffe://example.org/agent/b7";
  filter.since = FormatTime(std::chrono::system_clock::from_time_t(1767225600 + 86400 * 30));
  uint64_t matched = 0;
  start = std::chrono::steady_clock::now();
  std::clock_t cpu_start = std::clock();
  auto stats =
      QueryLog(dir.path(), filter, [&](const AuditRecord&, std::string_view) { matched += 1; });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  REQUIRE(stats.ok());
  CHECK(stats->lines == kRecords);
  CHECK(matched == static_cast<uint64_t>(expected));
  WARN("wrote 1,000,000 records in " << written << " s; query scanned them in " << seconds << " s ("
                                     << cpu_seconds << " s CPU), parsed " << stats->parsed
                                     << ", matched " << matched);
}

}  // namespace
}  // namespace signet::audit
