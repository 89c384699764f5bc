// AuditWatch turns a real audit write failure into NOT_SERVING health and metrics.
//
// The failure is the kernel's own: a directory stands where the log's next segment file
// must be created, so open() fails with EISDIR (tests run as root, where mode bits do
// not stop writes).
#include "tools/signetd/audit_watch.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "tests/signer/audit/audit_test_util.h"
#include "tests/support/openssl_cli.h"

namespace signet {
namespace {

bool WaitFor(const std::function<bool()>& condition) {
  for (int i = 0; i < 250; ++i) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_CASE("audit watch reports an audit log that cannot write in health and metrics", "[audit]") {
  testing::TempDir dir;
  audit::AuditLog::Options options = audit::testing::LogOptions(dir.path());
  options.max_segment_bytes = 1;  // every group of records starts a new segment
  options.retry_interval = std::chrono::milliseconds(50);
  auto log = audit::testing::OpenOrDie(options);
  ipc::MetricsRegistry metrics;
  AuditWatch watch(*log, metrics, std::chrono::milliseconds(20));
  audit::testing::AppendMany(*log, 1);
  REQUIRE(watch.Health().ok());
  CHECK(metrics.RenderPrometheus().find("signet_audit_writable 1") != std::string::npos);

  std::string blocker = dir.path() + "/00000002.jsonl";
  std::filesystem::create_directory(blocker);
  REQUIRE_FALSE(log->AppendAndWait(audit::testing::TokenRecord("user:lost")).ok());
  Status failed = watch.Health();
  CHECK(failed.code() == Code::kUnavailable);
  CHECK_THAT(failed.message(),
             Catch::Contains("audit log cannot write") && Catch::Contains("00000002.jsonl"));
  CHECK(metrics.RenderPrometheus().find("signet_audit_writable 0") != std::string::npos);

  std::filesystem::remove(blocker);
  REQUIRE(WaitFor([&] { return watch.Health().ok(); }));
  CHECK(metrics.RenderPrometheus().find("signet_audit_writable 1") != std::string::npos);
  CHECK(log->AppendAndWait(audit::testing::TokenRecord("user:after")).ok());
}

}  // namespace
}  // namespace signet
