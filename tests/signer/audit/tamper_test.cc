// VerifyLog finds the first altered, missing or reordered record, and says where.
#include "signer/audit/verify.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>

#include "signer/audit/record.h"
#include "tests/signer/audit/audit_test_util.h"

namespace signet::audit {
namespace {

using signet::testing::TempDir;
using testing::ReadLines;
using testing::WriteLines;

// A log of 20 records over at least four segments.
class TamperFixture {
 public:
  TamperFixture() {
    AuditLog::Options options = testing::LogOptions(dir_.path());
    options.max_segment_bytes = 2000;
    auto log = testing::OpenOrDie(options);
    testing::AppendMany(*log, 20);
  }

  std::string Segment(int index) const { return dir_.path() + "/" + SegmentName(index); }

  uint64_t SeqOf(const std::string& line) const {
    auto record = ParseRecord(line);
    REQUIRE(record.ok());
    return record->seq;
  }

  VerifyProblem Problem(const std::string& from = "") const {
    auto report = VerifyLog({dir_.path(), from, {}});
    INFO(report.status());
    REQUIRE(report.ok());
    REQUIRE(report->problem);
    return *report->problem;
  }

  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
};

TEST_CASE("audit verify finds one changed byte at its record", "[audit]") {
  TamperFixture log;
  std::vector<std::string> lines = ReadLines(log.Segment(2));
  REQUIRE(lines.size() >= 3);
  uint64_t seq = log.SeqOf(lines[2]);
  size_t at = lines[2].find("user:u");
  REQUIRE(at != std::string::npos);
  lines[2][at] = 'v';
  WriteLines(log.Segment(2), lines);

  VerifyProblem problem = log.Problem();
  CHECK(problem.segment == "00000002.jsonl");
  CHECK(problem.line == 3);
  CHECK(problem.seq == seq);
  CHECK(problem.what.find("altered") != std::string::npos);
}

TEST_CASE("audit verify finds a record rewritten with a fresh hash at the next record", "[audit]") {
  TamperFixture log;
  std::vector<std::string> lines = ReadLines(log.Segment(2));
  auto record = ParseRecord(lines[1]);
  REQUIRE(record.ok());
  record->subject = "user:someone-else";
  lines[1] = EncodeRecord(*record);
  WriteLines(log.Segment(2), lines);

  VerifyProblem problem = log.Problem();
  CHECK(problem.segment == "00000002.jsonl");
  CHECK(problem.line == 3);
  CHECK(problem.seq == record->seq + 1);
  CHECK(problem.what.find("chain broken") != std::string::npos);
}

TEST_CASE("audit verify finds a deleted record", "[audit]") {
  TamperFixture log;
  std::vector<std::string> lines = ReadLines(log.Segment(2));
  uint64_t seq = log.SeqOf(lines[1]);
  lines.erase(lines.begin() + 1);
  WriteLines(log.Segment(2), lines);

  VerifyProblem problem = log.Problem();
  CHECK(problem.segment == "00000002.jsonl");
  CHECK(problem.line == 2);
  CHECK(problem.seq == seq);
  CHECK(problem.what.find("expected seq " + std::to_string(seq) + ", found " +
                          std::to_string(seq + 1)) != std::string::npos);
}

TEST_CASE("audit verify finds two swapped records", "[audit]") {
  TamperFixture log;
  std::vector<std::string> lines = ReadLines(log.Segment(3));
  REQUIRE(lines.size() >= 3);
  uint64_t seq = log.SeqOf(lines[1]);
  std::swap(lines[1], lines[2]);
  WriteLines(log.Segment(3), lines);

  VerifyProblem problem = log.Problem();
  CHECK(problem.segment == "00000003.jsonl");
  CHECK(problem.line == 2);
  CHECK(problem.seq == seq);
  CHECK(problem.what.find("reordered") != std::string::npos);
}

TEST_CASE("audit verify finds a removed segment", "[audit]") {
  TamperFixture log;
  uint64_t first_missing = log.SeqOf(ReadLines(log.Segment(3)).at(0));
  std::filesystem::remove(log.Segment(3));

  VerifyProblem problem = log.Problem();
  CHECK(problem.segment == "00000003.jsonl");
  CHECK(problem.line == 0);
  CHECK(problem.seq == first_missing);
  CHECK(problem.what == "segment file missing");
}

TEST_CASE("audit verify finds a removed first segment, and --from skips archived ones", "[audit]") {
  TamperFixture log;
  std::filesystem::remove(log.Segment(1));
  CHECK(log.Problem().segment == "00000001.jsonl");

  std::filesystem::remove(log.Segment(2));
  auto report = VerifyLog({log.dir(), "00000003.jsonl", {}});
  REQUIRE(report.ok());
  CHECK_FALSE(report->problem);
  CHECK(report->last_seq == 20);
}

TEST_CASE("audit verify of a live log stops at the head it was given", "[audit]") {
  TempDir dir;
  {
    auto log = testing::OpenOrDie(testing::LogOptions(dir.path()));
    testing::AppendMany(*log, 5);
  }
  // A line being appended when the verification started: not yet complete.
  std::string segment = dir.path() + "/" + SegmentName(1);
  std::vector<std::string> lines = ReadLines(segment);
  REQUIRE(lines.size() == 5);
  std::string content;
  for (const std::string& line : lines) {
    content += line + "\n";
  }
  content += lines.back().substr(0, 40);
  REQUIRE(std::filesystem::remove(segment));
  {
    std::FILE* f = std::fopen(segment.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
  }

  VerifyOptions whole{dir.path(), "", {}};
  StatusOr<VerifyReport> all = VerifyLog(whole);
  REQUIRE(all.ok());
  REQUIRE(all->problem);
  CHECK_THAT(all->problem->what, Catch::Contains("incomplete last line"));

  VerifyOptions through = whole;
  through.through_seq = 5;
  StatusOr<VerifyReport> head = VerifyLog(through);
  REQUIRE(head.ok());
  CHECK(head->ok());
  CHECK(head->records == 5);
  CHECK(head->last_seq == 5);
}

}  // namespace
}  // namespace signet::audit
