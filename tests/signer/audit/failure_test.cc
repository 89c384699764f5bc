// AuditLog under write errors the kernel really returns.
//
// Tests run as root, where a read-only mode bit does not stop writes, and mounting
// a tiny tmpfs needs privileges CI may not have. Two honest ways remain to make a
// real write fail: RLIMIT_FSIZE (the kernel refuses to grow a file past the limit
// with EFBIG, exactly like a full disk refuses with ENOSPC: a partial write, then an
// error), and a directory standing where the next segment file must be created
// (open fails with EISDIR). Both are undone while the log runs, and the log must
// resume on its own.
#include "signer/audit/log.h"

#include <sys/resource.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <thread>

#include "signer/audit/verify.h"
#include "tests/signer/audit/audit_test_util.h"

namespace signet::audit {
namespace {

using signet::testing::TempDir;
using testing::AppendMany;
using testing::LogOptions;
using testing::OpenOrDie;
using testing::ReadLines;
using testing::TokenRecord;

bool WaitWritable(AuditLog& log) {
  for (int i = 0; i < 250; ++i) {
    if (log.health().writable) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Lowers the soft file-size limit of this process for its lifetime.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    rlimit lowered = saved_;
    lowered.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lowered) == 0);
  }
  ~FileSizeLimit() { Restore(); }
  void Restore() {
    if (!restored_) {
      ::setrlimit(RLIMIT_FSIZE, &saved_);
      restored_ = true;
    }
  }

 private:
  rlimit saved_{};
  bool restored_ = false;
};

TEST_CASE("audit log refuses appends while writes fail and resumes when they work", "[audit]") {
  TempDir dir;
  AuditLog::Options options = LogOptions(dir.path());
  options.retry_interval = std::chrono::milliseconds(50);
  auto log = OpenOrDie(options);
  AppendMany(*log, 3);
  std::string segment = dir.path() + "/00000001.jsonl";
  uint64_t durable = std::filesystem::file_size(segment);

  FileSizeLimit limit(durable + 100);  // room for part of one record only
  auto refused = log->AppendAndWait(TokenRecord("user:lost"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnavailable);
  CHECK(refused.status().message().find(segment) != std::string::npos);
  CHECK(refused.status().message().find("File too large") != std::string::npos);
  CHECK(refused.status().raw_code() == std::optional<uint64_t>(EFBIG));

  AuditHealth failed = log->health();
  CHECK_FALSE(failed.writable);
  CHECK(failed.error.code() == Code::kUnavailable);
  CHECK(failed.head_seq == 3);
  auto later = log->AppendAndWait(TokenRecord("user:also-lost"));
  CHECK(later.status().code() == Code::kUnavailable);
  CHECK(log->health().appends_refused == 2);
  std::vector<AuditRecord> batch{TokenRecord("user:lost-1"), TokenRecord("user:lost-2")};
  int batch_calls = 0;
  Status batch_status;
  log->AppendAll(std::move(batch), [&](StatusOr<uint64_t> seq) {
    ++batch_calls;
    batch_status = seq.status();
  });
  CHECK(batch_calls == 1);  // refused at once, on this thread
  CHECK(batch_status.code() == Code::kUnavailable);
  CHECK(log->health().appends_refused == 4);

  limit.Restore();
  REQUIRE(WaitWritable(*log));
  auto resumed = log->AppendAndWait(TokenRecord("user:after"));
  REQUIRE(resumed.ok());
  CHECK(*resumed == 5);  // 4 is the recovery record

  std::vector<std::string> lines = ReadLines(segment);
  REQUIRE(lines.size() == 5);
  CHECK(lines[3].find("\"op\":\"log.resumed\"") != std::string::npos);
  CHECK(lines[3].find("File too large") != std::string::npos);
  for (const std::string& line : lines) {
    CHECK(line.find("user:lost") == std::string::npos);
  }
  auto report = VerifyLog({dir.path(), "", {}});
  REQUIRE(report.ok());
  CHECK_FALSE(report->problem);
}

TEST_CASE("audit log fails while its next segment cannot be created", "[audit]") {
  TempDir dir;
  AuditLog::Options options = LogOptions(dir.path());
  options.max_segment_bytes = 1;  // every group starts a segment
  options.retry_interval = std::chrono::milliseconds(50);
  auto log = OpenOrDie(options);
  AppendMany(*log, 1);
  std::string blocker = dir.path() + "/00000002.jsonl";
  std::filesystem::create_directory(blocker);

  auto refused = log->AppendAndWait(TokenRecord("user:lost"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnavailable);
  CHECK(refused.status().message().find(blocker) != std::string::npos);
  CHECK(refused.status().message().find("Is a directory") != std::string::npos);
  CHECK_FALSE(log->health().writable);

  std::filesystem::remove(blocker);
  REQUIRE(WaitWritable(*log));
  REQUIRE(log->AppendAndWait(TokenRecord("user:after")).ok());
  auto report = VerifyLog({dir.path(), "", {}});
  REQUIRE(report.ok());
  CHECK_FALSE(report->problem);
  CHECK(report->records == 3);
}

}  // namespace
}  // namespace signet::audit
