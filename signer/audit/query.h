// Queries over an audit log directory: "everything minted for this subject, or on
// behalf of this principal, in this period", and the export of checkpoints.
//
// QueryLog streams the log segment by segment. A line is parsed as JSON only when
// it passes a cheap prefilter: every string the filter names must occur in the
// line as a JSON string, and its `time` must lie in [since, until). Checkpoint
// records are not returned by queries; ExportCheckpoints lists them.
//
// A query reads the log as it is; it does not verify the chain (VerifyLog does).
//
// Thread safety: pure functions over files; safe from any thread, also while the
// log is being written (a line still being written is skipped).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "signer/audit/record.h"
#include "signer/status.h"

namespace signet::audit {

// Every non-empty member must match (logical AND).
struct QueryFilter {
  std::string subject;    // the record's subject
  std::string principal;  // the subject, or the `sub` of any level of the act chain
  std::string caller;
  std::string key;
  std::string op;
  std::string since;  // inclusive; in FormatTime form (see NormalizeTime)
  std::string until;  // exclusive
};

// Accepts "2026-10-01", "2026-10-01T12:00:00Z", "2026-10-01T12:00:00.5Z" and
// returns the log's fixed-width UTC form "2026-10-01T12:00:00.500000Z".
StatusOr<std::string> NormalizeTime(std::string_view text);

struct QueryStats {
  uint64_t lines = 0;    // lines read
  uint64_t parsed = 0;   // lines that passed the prefilter and were parsed
  uint64_t matched = 0;  // records handed to the sink
};

// Called for each matching record with the record and its line as stored.
using QuerySink = std::function<void(const AuditRecord& record, std::string_view line)>;

// Runs the query over every segment in `dir`, oldest first. Fails when the
// directory or a segment cannot be read, or a line that passed the prefilter is
// not a record.
StatusOr<QueryStats> QueryLog(const std::string& dir, const QueryFilter& filter,
                              const QuerySink& sink);

// CSV (RFC 4180) header and row for a record. Audiences are joined with ' ', the
// act chain's subjects with " > " (current actor first).
std::string CsvHeader();
std::string CsvRow(const AuditRecord& record);

// Every checkpoint record in `dir` as a JSON array of objects with members
// record_seq, time, key, head_seq, head_hash, head_time, alg, sig: for publishing
// elsewhere, so that a later cut at the end of the log can be noticed.
StatusOr<std::string> ExportCheckpoints(const std::string& dir);

}  // namespace signet::audit
