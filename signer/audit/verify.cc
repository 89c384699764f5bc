#include "signer/audit/verify.h"

#include <cstring>
#include <string_view>

#include "signer/audit/record.h"
#include "signer/audit/segment.h"
#include "signer/signature.h"

namespace signet::audit {
namespace {

// Walks the chain, one record at a time, remembering what the next record must say.
class ChainChecker {
 public:
  ChainChecker(const VerifyOptions& options, VerifyReport& report)
      : options_(options), report_(report) {}

  void StartFrom(uint64_t seq, std::string prev) {
    expected_seq_ = seq;
    expected_prev_ = std::move(prev);
  }
  bool started() const { return expected_seq_ != 0; }
  uint64_t expected_seq() const { return expected_seq_; }

  // Returns the problem with this line, or an empty string.
  std::string Check(std::string_view line) {
    StatusOr<LineHashes> hashes = HashLine(line);
    if (!hashes.ok()) {
      return "malformed record: " + hashes.status().message();
    }
    if (hashes->claimed != hashes->computed) {
      return "record altered: its hash does not match its contents";
    }
    StatusOr<AuditRecord> record = ParseRecord(line);
    if (!record.ok()) {
      return "malformed record: " + record.status().message();
    }
    if (!started()) {
      StartFrom(record->seq, record->prev);
    }
    if (record->seq > expected_seq_) {
      return "expected seq " + std::to_string(expected_seq_) + ", found " +
             std::to_string(record->seq) + ": records missing or reordered";
    }
    if (record->seq < expected_seq_) {
      return "expected seq " + std::to_string(expected_seq_) + ", found " +
             std::to_string(record->seq) + ": records reordered or duplicated";
    }
    if (record->prev != expected_prev_) {
      return "chain broken: prev is not the hash of record " + std::to_string(record->seq - 1);
    }
    if (record->kind == RecordKind::kCheckpoint) {
      std::string problem = CheckCheckpoint(*record);
      if (!problem.empty()) {
        return problem;
      }
    }
    expected_seq_ = record->seq + 1;
    expected_prev_ = record->hash;
    last_time_ = record->time;
    report_.records += 1;
    report_.last_seq = record->seq;
    report_.head_hash = record->hash;
    return {};
  }

 private:
  std::string CheckCheckpoint(const AuditRecord& record) {
    const CheckpointFields& cp = record.checkpoint;
    if (cp.head_seq + 1 != record.seq || cp.head_hash != record.prev ||
        cp.head_time != last_time_) {
      return "checkpoint does not sign the record before it";
    }
    const PublicKey* key = nullptr;
    for (const auto& [kid, candidate] : options_.checkpoint_keys) {
      if (kid == record.key || (kid.empty() && key == nullptr)) {
        key = &candidate;
      }
    }
    if (key == nullptr) {
      if (options_.checkpoint_keys.empty()) {
        report_.checkpoints_unchecked += 1;
        return {};
      }
      return "no public key given for checkpoint key '" + record.key + "'";
    }
    StatusOr<Algorithm> alg = ParseAlgorithm(cp.algorithm);
    StatusOr<Bytes> signature = Base64UrlDecode(cp.signature);
    if (!alg.ok() || !signature.ok()) {
      return "checkpoint has a malformed algorithm or signature";
    }
    std::string payload = CheckpointPayload(cp.head_seq, cp.head_hash, cp.head_time);
    SignRequest request;
    request.input.assign(payload.begin(), payload.end());
    request.format = SignatureFormat::kRaw;
    if (!VerifySignature(*key, *alg, request, *signature).ok()) {
      return "checkpoint signature does not verify with the audit key";
    }
    report_.checkpoints_verified += 1;
    return {};
  }

  const VerifyOptions& options_;
  VerifyReport& report_;
  uint64_t expected_seq_ = 0;  // 0: take the first record as the start
  std::string expected_prev_;
  std::string last_time_;
};

// The index named by "00000003.jsonl" or "3"; 0 when neither.
uint32_t ParseFrom(const std::string& from) {
  std::string digits = from.substr(0, from.find('.'));
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return static_cast<uint32_t>(std::stoul(digits));
}

}  // namespace

StatusOr<VerifyReport> VerifyLog(const VerifyOptions& options) {
  SIGNET_ASSIGN_OR_RETURN(std::vector<SegmentInfo> segments, ListSegments(options.dir));
  if (segments.empty()) {
    return Status(Code::kNotFound, "no audit segments (*.jsonl) in " + options.dir);
  }

  VerifyReport report;
  ChainChecker chain(options, report);
  uint32_t expected_index = 1;
  if (!options.from_segment.empty()) {
    expected_index = ParseFrom(options.from_segment);
    if (expected_index == 0) {
      return Status(Code::kInvalidArgument,
                    "--from '" + options.from_segment + "' is not a segment name or number");
    }
  } else {
    chain.StartFrom(1, std::string(kZeroHash));
  }

  for (const SegmentInfo& segment : segments) {
    if (segment.index < expected_index) {
      continue;
    }
    if (segment.index != expected_index) {
      report.problem = {SegmentName(expected_index), 0, chain.expected_seq(),
                        "segment file missing"};
      return report;
    }
    expected_index += 1;
    report.segments += 1;

    SIGNET_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(segment.path));
    std::string_view rest = content;
    uint64_t line_number = 0;
    while (!rest.empty()) {
      line_number += 1;
      size_t end = rest.find('\n');
      if (end == std::string_view::npos) {
        report.problem = {segment.name, line_number, chain.expected_seq(),
                          "incomplete last line (a write was interrupted; signet cuts it "
                          "when it next opens the log)"};
        return report;
      }
      std::string problem = chain.Check(rest.substr(0, end));
      if (!problem.empty()) {
        report.problem = {segment.name, line_number, chain.expected_seq(), problem};
        return report;
      }
      if (options.through_seq != 0 && report.last_seq >= options.through_seq) {
        return report;
      }
      rest.remove_prefix(end + 1);
    }
  }
  if (report.segments == 0) {
    return Status(Code::kNotFound,
                  "segment " + options.from_segment + " not found in " + options.dir);
  }
  return report;
}

}  // namespace signet::audit
