// AuditLog: chaining, checkpoints, group commit and torn-line repair.
#include "signer/audit/log.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "signer/audit/key_file.h"
#include "signer/audit/query.h"
#include "signer/audit/verify.h"
#include "signer/signature.h"
#include "tests/signer/audit/audit_test_util.h"

namespace signet::audit {
namespace {

using signet::testing::TempDir;
using testing::AppendMany;
using testing::LogOptions;
using testing::OpenOrDie;
using testing::ReadLines;
using testing::TokenRecord;

VerifyReport VerifyOrDie(const VerifyOptions& options) {
  auto report = VerifyLog(options);
  INFO(report.status());
  REQUIRE(report.ok());
  if (report->problem) {
    FAIL(report->problem->segment << " line " << report->problem->line << ": "
                                  << report->problem->what);
  }
  return *report;
}

// Appends `per_thread` records from each of `threads` threads without waiting for
// one before the next; returns the sequence numbers the callbacks reported.
std::vector<uint64_t> AppendConcurrently(AuditLog& log, int threads, int per_thread) {
  std::mutex mu;
  std::condition_variable done_cv;
  std::vector<uint64_t> seqs;
  int outstanding = threads * per_thread;
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        log.Append(TokenRecord("user:t" + std::to_string(t) + "-" + std::to_string(i)),
                   [&](StatusOr<uint64_t> seq) {
                     std::lock_guard lock(mu);
                     if (seq.ok()) {
                       seqs.push_back(*seq);
                     } else {
                       errors++;
                     }
                     if (--outstanding == 0) {
                       done_cv.notify_all();
                     }
                   });
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  std::unique_lock lock(mu);
  done_cv.wait(lock, [&] { return outstanding == 0; });
  REQUIRE(errors == 0);
  return seqs;
}

TEST_CASE("audit log chains records and continues the chain after reopening", "[audit]") {
  TempDir dir;
  {
    auto log = OpenOrDie(LogOptions(dir.path()));
    std::vector<uint64_t> seqs = AppendMany(*log, 10);
    CHECK(seqs.front() == 1);
    CHECK(seqs.back() == 10);
  }
  {
    auto log = OpenOrDie(LogOptions(dir.path()));
    CHECK(log->health().head_seq == 10);
    CHECK(AppendMany(*log, 5).back() == 15);
  }

  VerifyReport report = VerifyOrDie({dir.path(), "", {}});
  CHECK(report.records == 15);
  CHECK(report.last_seq == 15);

  std::vector<std::string> lines = ReadLines(dir.path() + "/00000001.jsonl");
  REQUIRE(lines.size() == 15);
  auto first = ParseRecord(lines[0]);
  auto second = ParseRecord(lines[1]);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->prev == kZeroHash);
  CHECK(second->prev == first->hash);
  CHECK(first->act.size() == 0);
  CHECK(lines[0].rfind("{\"seq\":1,\"time\":\"", 0) == 0);
}

TEST_CASE("audit record hash is SHA-256 of the line without its hash member", "[audit]") {
  TempDir dir;
  auto log = OpenOrDie(LogOptions(dir.path()));
  AppendMany(*log, 1);
  std::string line = ReadLines(dir.path() + "/00000001.jsonl").at(0);

  // Recompute with the openssl command line from the canonical form.
  size_t member = line.rfind(",\"hash\":\"");
  REQUIRE(member != std::string::npos);
  std::string canonical = line.substr(0, member) + "}";
  std::string path = dir.path() + "/canonical.bin";
  std::ofstream(path, std::ios::binary) << canonical;
  std::string out;
  REQUIRE(signet::testing::RunCommand("openssl dgst -sha256 -r " + path, &out) == 0);
  CHECK(out.substr(0, 64) == line.substr(member + 9, 64));
}

TEST_CASE("audit checkpoints sign the head and verify with the audit public key", "[audit]") {
  TempDir dir;
  testing::OpensslAuditKey audit_key;
  AuditLog::Options options = LogOptions(dir.path());
  options.checkpoint_key = audit_key.key();
  options.checkpoint_key_id = "audit-1";
  options.checkpoint_every_records = 5;
  {
    auto log = OpenOrDie(options);
    AppendMany(*log, 12);
    auto checkpoint = log->CheckpointNow();
    INFO(checkpoint.status());
    REQUIRE(checkpoint.ok());
    CHECK(log->health().checkpoints_written >= 3);
  }

  auto keys = LoadPublicKeys(audit_key.public_pem_path());
  REQUIRE(keys.ok());
  VerifyReport report = VerifyOrDie({dir.path(), "", *keys});
  CHECK(report.checkpoints_verified >= 3);
  CHECK(report.checkpoints_unchecked == 0);

  // openssl agrees with the last checkpoint's signature over the documented payload.
  auto exported = ExportCheckpoints(dir.path());
  REQUIRE(exported.ok());
  std::vector<std::string> lines = ReadLines(dir.path() + "/00000001.jsonl");
  auto last = ParseRecord(lines.back());
  REQUIRE(last.ok());
  REQUIRE(last->kind == RecordKind::kCheckpoint);
  CHECK(exported->find(last->checkpoint.signature) != std::string::npos);
  auto raw = Base64UrlDecode(last->checkpoint.signature);
  REQUIRE(raw.ok());
  auto der = EcdsaRawToDer(*raw);
  REQUIRE(der.ok());
  std::string payload = CheckpointPayload(last->checkpoint.head_seq, last->checkpoint.head_hash,
                                          last->checkpoint.head_time);
  CHECK(signet::testing::OpensslVerifies(audit_key.key()->public_key().spki_der, Algorithm::kES256,
                                         payload, *der));

  // The same key as DER, converted by openssl, verifies them too.
  std::string der_path = dir.path() + "/audit-pub.der";
  REQUIRE(signet::testing::RunCommand("openssl pkey -pubin -in " + audit_key.public_pem_path() +
                                      " -outform DER -out " + der_path) == 0);
  auto der_keys = LoadPublicKeys(der_path);
  INFO(der_keys.status());
  REQUIRE(der_keys.ok());
  CHECK(VerifyOrDie({dir.path(), "", *der_keys}).checkpoints_verified >= 3);

  // Another key does not verify them.
  testing::OpensslAuditKey other_key;
  auto other = LoadPublicKeys(other_key.public_pem_path());
  REQUIRE(other.ok());
  auto wrong = VerifyLog({dir.path(), "", *other});
  REQUIRE(wrong.ok());
  REQUIRE(wrong->problem);
  CHECK(wrong->problem->what.find("signature does not verify") != std::string::npos);
}

TEST_CASE("audit checkpoints are written by time when records arrive slowly", "[audit]") {
  TempDir dir;
  testing::OpensslAuditKey audit_key;
  AuditLog::Options options = LogOptions(dir.path());
  options.checkpoint_key = audit_key.key();
  options.checkpoint_key_id = "audit-1";
  options.checkpoint_interval = std::chrono::milliseconds(50);
  auto log = OpenOrDie(options);
  AppendMany(*log, 1);
  for (int i = 0; i < 100 && log->health().checkpoints_written == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(log->health().checkpoints_written == 1);
  CHECK(log->health().head_seq == 2);
}

TEST_CASE("audit group commit completes many concurrent appends with few syncs", "[audit]") {
  TempDir dir;
  auto log = OpenOrDie(LogOptions(dir.path()));
  std::vector<uint64_t> seqs = AppendConcurrently(*log, 8, 500);

  std::set<uint64_t> unique(seqs.begin(), seqs.end());
  CHECK(unique.size() == 4000);
  CHECK(*unique.begin() == 1);
  CHECK(*unique.rbegin() == 4000);
  AuditHealth health = log->health();
  CHECK(health.records_written == 4000);
  INFO("syncs: " << health.syncs);
  CHECK(health.syncs < 4000 / 4);
  VerifyOrDie({dir.path(), "", {}});
}

TEST_CASE("audit log writes a batch's records in order, in one group, with one callback",
          "[audit]") {
  TempDir dir;
  AuditLog::Options options = LogOptions(dir.path());
  options.max_group_records = 2;  // a batch is never split, even past the bound
  auto log = OpenOrDie(options);
  AppendMany(*log, 1);
  uint64_t syncs_before = log->health().syncs;

  std::vector<AuditRecord> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(TokenRecord("user:b" + std::to_string(i)));
  }
  std::atomic<int> calls{0};
  std::promise<StatusOr<uint64_t>> result;
  log->AppendAll(std::move(batch), [&](StatusOr<uint64_t> seq) {
    ++calls;
    result.set_value(seq);
  });
  StatusOr<uint64_t> last = result.get_future().get();

  REQUIRE(last.ok());
  CHECK(*last == 6);
  CHECK(calls == 1);
  CHECK(log->health().syncs == syncs_before + 1);
  std::vector<std::string> lines = ReadLines(dir.path() + "/00000001.jsonl");
  REQUIRE(lines.size() == 6);
  for (int i = 0; i < 5; ++i) {
    INFO(lines[static_cast<size_t>(i) + 1]);
    CHECK(lines[static_cast<size_t>(i) + 1].find("\"subject\":\"user:b" + std::to_string(i) +
                                                 "\"") != std::string::npos);
  }

  std::optional<StatusOr<uint64_t>> empty;
  log->AppendAll({}, [&](StatusOr<uint64_t> seq) { empty = seq; });
  REQUIRE(empty.has_value());
  CHECK(empty->ok());
  VerifyOrDie({dir.path(), "", {}});
}

TEST_CASE("audit group commit throughput against one sync per record", "[audit]") {
  struct Mode {
    const char* name;
    bool sync;
    size_t max_group;
    int per_thread;
  };
  for (Mode mode : {Mode{"no fsync", false, 0, 2500}, Mode{"group commit", true, 0, 2500},
                    Mode{"fsync per record", true, 1, 100}}) {
    TempDir dir;
    AuditLog::Options options = LogOptions(dir.path());
    options.sync = mode.sync;
    options.max_group_records = mode.max_group;
    auto log = OpenOrDie(options);
    auto start = std::chrono::steady_clock::now();
    AppendConcurrently(*log, 8, mode.per_thread);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    AuditHealth health = log->health();
    WARN(mode.name << ": " << health.records_written << " records, " << health.syncs << " syncs, "
                   << static_cast<long>(health.records_written / seconds) << " records/s");
    if (mode.max_group == 1) {
      CHECK(health.syncs == health.records_written);
    }
  }
}

TEST_CASE("audit log cuts a torn last line at open and records the cut", "[audit]") {
  TempDir dir;
  {
    auto log = OpenOrDie(LogOptions(dir.path()));
    AppendMany(*log, 5);
  }
  const std::string torn = "{\"seq\":6,\"time\":\"2026-12-03T17:";
  std::ofstream(dir.path() + "/00000001.jsonl", std::ios::binary | std::ios::app) << torn;

  auto unrepaired = VerifyLog({dir.path(), "", {}});
  REQUIRE(unrepaired.ok());
  REQUIRE(unrepaired->problem);
  CHECK(unrepaired->problem->line == 6);

  auto log = OpenOrDie(LogOptions(dir.path()));
  CHECK(log->open_report().cut_torn_line);
  CHECK(log->open_report().cut_bytes == torn.size());
  CHECK(log->health().head_seq == 6);
  CHECK(AppendMany(*log, 1).back() == 7);

  std::vector<std::string> lines = ReadLines(dir.path() + "/00000001.jsonl");
  REQUIRE(lines.size() == 7);
  auto cut = ParseRecord(lines[5]);
  REQUIRE(cut.ok());
  CHECK(cut->kind == RecordKind::kRecovery);
  CHECK(cut->op == "log.truncated");
  CHECK(cut->digest == Sha256Hex(torn));
  CHECK(cut->reason.find("00000001.jsonl") != std::string::npos);
  VerifyOrDie({dir.path(), "", {}});
}

TEST_CASE("audit log rotates segments by age", "[audit]") {
  TempDir dir;
  AuditLog::Options options = LogOptions(dir.path());
  options.max_segment_age = std::chrono::seconds(0);  // every group finds its segment old
  auto log = OpenOrDie(options);
  AppendMany(*log, 3);
  auto segments = ListSegments(dir.path());
  REQUIRE(segments.ok());
  CHECK(segments->size() == 3);
  CHECK(VerifyOrDie({dir.path(), "", {}}).records == 3);
}

TEST_CASE("audit log rotates segments by size and verifies across them", "[audit]") {
  TempDir dir;
  AuditLog::Options options = LogOptions(dir.path());
  options.max_segment_bytes = 2000;
  {
    auto log = OpenOrDie(options);
    AppendMany(*log, 20);
    CHECK(log->health().segments_opened >= 3);
  }
  auto segments = ListSegments(dir.path());
  REQUIRE(segments.ok());
  CHECK(segments->size() >= 4);
  {
    auto log = OpenOrDie(options);
    CHECK(AppendMany(*log, 1).back() == 21);
  }
  CHECK(VerifyOrDie({dir.path(), "", {}}).records == 21);
}

TEST_CASE("audit records keep awkward strings as valid JSON that verifies and is found",
          "[audit]") {
  signet::testing::TempDir dir;
  const std::string awkward = "user:\"o'brien\"\\\n\t\x01 caf\xc3\xa9 \xe2\x82\xac";
  const std::string invalid_utf8 = "user:\xff\xfe";
  {
    auto log = testing::OpenOrDie(testing::LogOptions(dir.path()));
    REQUIRE(log->AppendAndWait(testing::TokenRecord(awkward, {awkward})).ok());
    REQUIRE(log->AppendAndWait(testing::TokenRecord(invalid_utf8)).ok());
  }
  auto report = VerifyLog({dir.path(), "", {}});
  REQUIRE(report.ok());
  CHECK_FALSE(report->problem);

  std::vector<std::string> found;
  QueryFilter filter;
  filter.principal = awkward;
  auto stats = QueryLog(dir.path(), filter, [&](const AuditRecord& r, std::string_view) {
    found.push_back(r.subject);
  });
  REQUIRE(stats.ok());
  CHECK(found == std::vector<std::string>{awkward});

  auto lines = testing::ReadLines(dir.path() + "/00000001.jsonl");
  auto replaced = ParseRecord(lines.at(1));
  REQUIRE(replaced.ok());
  CHECK(replaced->subject == "user:\xef\xbf\xbd\xef\xbf\xbd");  // U+FFFD twice
}

}  // namespace
}  // namespace signet::audit
