// AuditRecord: one line of the audit log, and its canonical encoding.
//
// Every signature signet makes, every refusal, every key or policy change, every
// checkpoint and every repair of the log itself is one record. A record says who
// asked (caller), what for (op, key, subject, audiences, the whole `act` chain),
// what came out (jti or certificate serial, TTL, a SHA-256 digest of the returned
// bytes) and links to the record before it by hash. It never holds a token, a
// private key, a PIN or a CSR body: only identifiers and digests.
//
// Canonical encoding (docs/audit.md has the full definition): a record is written
// as one JSON object on one line, members in the fixed order of EncodeRecord, with
// `hash` last. The record's hash is SHA-256 over the bytes of that line with the
// final `,"hash":"<64 hex>"` removed (so the bytes end with `}`), as lower-case
// hex. `prev` is the hash of the record before it; the first record has 64 zeros.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "signer/status.h"

namespace signet::audit {

// What a record is about.
enum class RecordKind {
  kEvent,       // a signature, a refusal, a key or policy change
  kCheckpoint,  // the head of the chain signed with the audit key
  kRecovery,    // the log repaired itself: a torn line cut, writing resumed after a failure
};

// "event", "checkpoint", "recovery".
std::string_view RecordKindName(RecordKind kind);

// One level of an RFC 8693 `act` chain.
struct Actor {
  std::string sub;
  std::string iss;  // empty when the token did not name one
};

// The signature over a chain head, carried by checkpoint records.
struct CheckpointFields {
  uint64_t head_seq = 0;  // sequence number of the record the checkpoint signs
  std::string head_hash;  // that record's hash (hex)
  std::string head_time;  // that record's time
  std::string algorithm;  // JOSE name of the audit key's algorithm, e.g. "ES256"
  std::string signature;  // base64url; ECDSA as r || s
};

struct AuditRecord {
  // Filled in by the log when the record is written; ignored by Append.
  uint64_t seq = 0;
  std::string time;  // RFC 3339 UTC with microseconds, fixed width: 2026-12-03T17:28:00.123456Z

  RecordKind kind = RecordKind::kEvent;
  std::string caller;  // SPIFFE ID of the client, or "signetctl:<user>" for custodian commands
  std::string op;      // "jwt_svid", "access_token", "x509_svid", "raw_sign", "key.activate", ...
  std::string key;     // key id (kid, CA key id, raw key name, or the audit key for checkpoints)
  std::string subject;
  std::vector<std::string> audiences;
  std::vector<Actor> act;  // the current actor first, back to the first actor
  std::string jti;         // tokens
  std::string serial;      // certificates, hex
  int64_t ttl_seconds = 0;
  bool granted = true;
  std::string reason;  // why it was refused, or what a key/policy/recovery record did
  std::string digest;  // SHA-256 (hex) of the credential or signature returned; empty if none

  CheckpointFields checkpoint;  // kCheckpoint only

  // Filled in by the log.
  std::string prev;
  std::string hash;
};

inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The line for `record` without its trailing newline, computing and storing
// record.hash from the other members (record.prev must be set).
std::string EncodeRecord(AuditRecord& record);

// The same line appended to `out`, for writing many records with one buffer.
void AppendEncodedRecord(AuditRecord& record, std::string& out);

// The hash a line claims and the hash its bytes have. kInvalidArgument when the
// line does not end in a well-formed `,"hash":"<64 hex>"}`.
struct LineHashes {
  std::string claimed;
  std::string computed;
};
StatusOr<LineHashes> HashLine(std::string_view line);

// Parses one line (without the newline) into a record. Does not check the hash.
StatusOr<AuditRecord> ParseRecord(std::string_view line);

// `text` as a JSON string in the canonical form, quotes included.
std::string JsonString(std::string_view text);

// SHA-256 of `data` as lower-case hex.
std::string Sha256Hex(std::string_view data);

// The bytes the audit key signs for a checkpoint:
// "signet-audit-checkpoint-v1\n<head_seq>\n<head_hash>\n<head_time>\n".
std::string CheckpointPayload(uint64_t head_seq, std::string_view head_hash,
                              std::string_view head_time);

}  // namespace signet::audit
