// Offline verification of an audit log directory (or a copy of one).
//
// VerifyLog walks every segment in order and checks, for each record: that the
// line is well formed, that its `hash` is the SHA-256 of its canonical encoding,
// that its `seq` is one more than the record before it and its `prev` is that
// record's hash, and, for checkpoint records, that they sign the record just
// before them with a valid signature from the audit key. It stops at the first
// problem and says where it is: segment file, line, sequence number and what is
// wrong. A missing segment file is reported as such.
//
// What the chain alone cannot show: records cut from the very end of the log.
// Compare the head with a checkpoint published elsewhere (ExportCheckpoints) for that.
//
// Thread safety: a pure function over files; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "signer/backend.h"
#include "signer/status.h"

namespace signet::audit {

struct VerifyOptions {
  std::string dir;
  // Start at this segment ("00000003.jsonl" or "3") and trust its first record's
  // `prev`, e.g. after older segments were archived. Empty: from segment 1 and the
  // zero hash.
  std::string from_segment;
  // Public keys of the audit key, by key id; an empty id matches any checkpoint.
  // With no keys, checkpoint signatures are counted as unchecked, not verified.
  std::vector<std::pair<std::string, PublicKey>> checkpoint_keys;
  // Stop after the record with this sequence number (0: at the end). For a log that is
  // being written: verify what was durable when asked, not a line being appended.
  uint64_t through_seq = 0;
};

struct VerifyProblem {
  std::string segment;  // file name, e.g. 00000002.jsonl
  uint64_t line = 0;    // 1-based; 0 when the whole segment is missing
  uint64_t seq = 0;     // the sequence number expected at that place
  std::string what;
};

struct VerifyReport {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t checkpoints_verified = 0;
  uint64_t checkpoints_unchecked = 0;
  uint64_t last_seq = 0;
  std::string head_hash;
  std::optional<VerifyProblem> problem;  // the first one found

  bool ok() const { return !problem.has_value(); }
};

// Verifies the log. An error Status means the log could not be read at all (no such
// directory, no segments, unreadable file); a tampered log is an OK result whose
// report has a problem.
StatusOr<VerifyReport> VerifyLog(const VerifyOptions& options);

}  // namespace signet::audit
