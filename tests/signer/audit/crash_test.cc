// kill -9 of a process writing the audit log under load: after a restart the log
// verifies, and every record whose callback had completed is there exactly once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <poll.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <semaphore>
#include <set>
#include <thread>

#include "signer/audit/log.h"
#include "signer/audit/verify.h"
#include "tests/signer/audit/audit_test_util.h"

namespace signet::audit {
namespace {

using signet::testing::TempDir;

// The child: four threads append as fast as the log takes them; each completed
// callback writes the record's sequence number to `ack_fd`. Never returns.
[[noreturn]] void WriteUntilKilled(const std::string& dir, int ack_fd) {
  auto log = AuditLog::Open(testing::LogOptions(dir));
  if (!log.ok()) {
    ::_exit(3);
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&log, ack_fd, t] {
      std::counting_semaphore<256> in_flight(256);
      for (uint64_t i = 0;; ++i) {
        in_flight.acquire();
        (*log)->Append(
            testing::TokenRecord("user:crash-" + std::to_string(t) + "-" + std::to_string(i),
                                 {"spiffe://example.org/agent/" + std::to_string(t)}),
            [&in_flight, ack_fd](StatusOr<uint64_t> seq) {
              if (!seq.ok()) {
                ::_exit(4);
              }
              uint64_t value = *seq;
              if (::write(ack_fd, &value, sizeof(value)) != sizeof(value)) {
                ::_exit(5);
              }
              in_flight.release();
            });
      }
    });
  }
  for (;;) {
    ::pause();
  }
}

// Reads acknowledged sequence numbers until the deadline, or until EOF when
// `until_eof`.
void ReadAcks(int fd, std::vector<uint64_t>& acks, std::string& partial,
              std::chrono::steady_clock::time_point deadline, bool until_eof) {
  char buf[4096];
  for (;;) {
    int wait_ms = -1;
    if (!until_eof) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return;
      }
      wait_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) {
      continue;
    }
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return;
    }
    partial.append(buf, static_cast<size_t>(n));
    size_t whole = partial.size() / sizeof(uint64_t) * sizeof(uint64_t);
    for (size_t at = 0; at < whole; at += sizeof(uint64_t)) {
      uint64_t value;
      std::memcpy(&value, partial.data() + at, sizeof(value));
      acks.push_back(value);
    }
    partial.erase(0, whole);
  }
}

TEST_CASE("audit log verifies after kill -9 under load and keeps every acknowledged record",
          "[audit]") {
  TempDir dir;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    WriteUntilKilled(dir.path(), fds[1]);
  }
  ::close(fds[1]);

  std::vector<uint64_t> acks;
  std::string partial;
  ReadAcks(fds[0], acks, partial, std::chrono::steady_clock::now() + std::chrono::milliseconds(400),
           false);
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  ReadAcks(fds[0], acks, partial, {}, true);
  ::close(fds[0]);
  INFO("acknowledged before the kill: " << acks.size());
  REQUIRE(acks.size() > 100);

  // Restart: Open repairs a torn tail if there is one; then the chain must hold.
  {
    auto log = testing::OpenOrDie(testing::LogOptions(dir.path()));
    CHECK(log->health().head_seq >= *std::max_element(acks.begin(), acks.end()));
  }
  auto report = VerifyLog({dir.path(), "", {}});
  REQUIRE(report.ok());
  if (report->problem) {
    FAIL(report->problem->segment << " line " << report->problem->line << ": "
                                  << report->problem->what);
  }

  // Every acknowledged record is present once: verify proved seqs 1..last are each
  // there exactly once, so it is enough that every ack is within that range and that
  // no ack was reported twice.
  std::set<uint64_t> unique(acks.begin(), acks.end());
  CHECK(unique.size() == acks.size());
  CHECK(*unique.rbegin() <= report->last_seq);
  CHECK(*unique.begin() >= 1);
  WARN("kill -9 after " << acks.size() << " acknowledged records; log holds " << report->last_seq);
}

}  // namespace
}  // namespace signet::audit
