#include "signer/audit/record.h"

#include <openssl/sha.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "signer/bytes.h"

namespace signet::audit {
namespace {

constexpr std::string_view kHashMember = ",\"hash\":\"";
constexpr size_t kHexHashSize = 64;

boost::json::array StringArray(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const std::string& item : items) {
    out.emplace_back(item);
  }
  return out;
}

boost::json::array ActArray(const std::vector<Actor>& act) {
  boost::json::array out;
  for (const Actor& actor : act) {
    boost::json::object level;
    level["sub"] = actor.sub;
    if (!actor.iss.empty()) {
      level["iss"] = actor.iss;
    }
    out.emplace_back(std::move(level));
  }
  return out;
}

// The members in canonical order, without `hash`.
boost::json::object CanonicalObject(const AuditRecord& r) {
  boost::json::object o;
  o["seq"] = r.seq;
  o["time"] = r.time;
  o["kind"] = RecordKindName(r.kind);
  if (r.kind == RecordKind::kCheckpoint) {
    o["key"] = r.key;
    o["head_seq"] = r.checkpoint.head_seq;
    o["head_hash"] = r.checkpoint.head_hash;
    o["head_time"] = r.checkpoint.head_time;
    o["alg"] = r.checkpoint.algorithm;
    o["sig"] = r.checkpoint.signature;
  } else {
    o["caller"] = r.caller;
    o["op"] = r.op;
    o["key"] = r.key;
    o["subject"] = r.subject;
    o["aud"] = StringArray(r.audiences);
    o["act"] = ActArray(r.act);
    o["jti"] = r.jti;
    o["serial"] = r.serial;
    o["ttl"] = r.ttl_seconds;
    o["result"] = r.granted ? "granted" : "refused";
    o["reason"] = r.reason;
    o["digest"] = r.digest;
  }
  o["prev"] = r.prev;
  return o;
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// Typed member access that reports which member is wrong.
StatusOr<std::string> GetString(const boost::json::object& o, std::string_view name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return Status(Code::kInvalidArgument, "member '" + std::string(name) + "' is not a string");
  }
  return std::string(v->get_string());
}

StatusOr<int64_t> GetInt(const boost::json::object& o, std::string_view name) {
  const boost::json::value* v = o.if_contains(name);
  if (v != nullptr && v->is_int64()) {
    return v->get_int64();
  }
  if (v != nullptr && v->is_uint64() && v->get_uint64() <= INT64_MAX) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return Status(Code::kInvalidArgument, "member '" + std::string(name) + "' is not an integer");
}

Status ParseEventMembers(const boost::json::object& o, AuditRecord& r) {
  SIGNET_ASSIGN_OR_RETURN(r.caller, GetString(o, "caller"));
  SIGNET_ASSIGN_OR_RETURN(r.op, GetString(o, "op"));
  SIGNET_ASSIGN_OR_RETURN(r.subject, GetString(o, "subject"));
  SIGNET_ASSIGN_OR_RETURN(r.jti, GetString(o, "jti"));
  SIGNET_ASSIGN_OR_RETURN(r.serial, GetString(o, "serial"));
  SIGNET_ASSIGN_OR_RETURN(r.ttl_seconds, GetInt(o, "ttl"));
  SIGNET_ASSIGN_OR_RETURN(std::string result, GetString(o, "result"));
  if (result != "granted" && result != "refused") {
    return Status(Code::kInvalidArgument, "member 'result' is '" + result + "'");
  }
  r.granted = result == "granted";
  SIGNET_ASSIGN_OR_RETURN(r.reason, GetString(o, "reason"));
  SIGNET_ASSIGN_OR_RETURN(r.digest, GetString(o, "digest"));

  const boost::json::value* aud = o.if_contains("aud");
  if (aud == nullptr || !aud->is_array()) {
    return Status(Code::kInvalidArgument, "member 'aud' is not an array");
  }
  for (const boost::json::value& a : aud->get_array()) {
    if (!a.is_string()) {
      return Status(Code::kInvalidArgument, "member 'aud' holds a non-string");
    }
    r.audiences.emplace_back(a.get_string());
  }

  const boost::json::value* act = o.if_contains("act");
  if (act == nullptr || !act->is_array()) {
    return Status(Code::kInvalidArgument, "member 'act' is not an array");
  }
  for (const boost::json::value& level : act->get_array()) {
    if (!level.is_object()) {
      return Status(Code::kInvalidArgument, "member 'act' holds a non-object");
    }
    Actor actor;
    SIGNET_ASSIGN_OR_RETURN(actor.sub, GetString(level.get_object(), "sub"));
    if (level.get_object().contains("iss")) {
      SIGNET_ASSIGN_OR_RETURN(actor.iss, GetString(level.get_object(), "iss"));
    }
    r.act.push_back(std::move(actor));
  }
  return OkStatus();
}

Status ParseCheckpointMembers(const boost::json::object& o, AuditRecord& r) {
  SIGNET_ASSIGN_OR_RETURN(int64_t head_seq, GetInt(o, "head_seq"));
  r.checkpoint.head_seq = static_cast<uint64_t>(head_seq);
  SIGNET_ASSIGN_OR_RETURN(r.checkpoint.head_hash, GetString(o, "head_hash"));
  SIGNET_ASSIGN_OR_RETURN(r.checkpoint.head_time, GetString(o, "head_time"));
  SIGNET_ASSIGN_OR_RETURN(r.checkpoint.algorithm, GetString(o, "alg"));
  SIGNET_ASSIGN_OR_RETURN(r.checkpoint.signature, GetString(o, "sig"));
  return OkStatus();
}

}  // namespace

std::string_view RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kEvent:
      return "event";
    case RecordKind::kCheckpoint:
      return "checkpoint";
    case RecordKind::kRecovery:
      return "recovery";
  }
  return "event";
}

std::string Sha256Hex(std::string_view data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest);
  return HexEncode(ByteView(digest, sizeof(digest)));
}

std::string EncodeRecord(AuditRecord& record) {
  std::string line = boost::json::serialize(CanonicalObject(record));
  record.hash = Sha256Hex(line);

  line.pop_back();  // the closing brace
  line.append(kHashMember);
  line.append(record.hash);
  line.append("\"}");
  return line;
}

StatusOr<LineHashes> HashLine(std::string_view line) {
  constexpr size_t kTail = kHashMember.size() + kHexHashSize + 2;
  if (line.size() < kTail + 1 || line.substr(line.size() - 2) != "\"}") {
    return Status(Code::kInvalidArgument, "line does not end with a hash member");
  }
  size_t member = line.size() - kTail;
  if (line.substr(member, kHashMember.size()) != kHashMember) {
    return Status(Code::kInvalidArgument, "line does not end with a hash member");
  }
  LineHashes out;
  out.claimed = std::string(line.substr(member + kHashMember.size(), kHexHashSize));
  if (!IsLowerHex(out.claimed)) {
    return Status(Code::kInvalidArgument, "hash member is not 64 lower-case hex digits");
  }
  std::string canonical(line.substr(0, member));
  canonical.push_back('}');
  out.computed = Sha256Hex(canonical);
  return out;
}

StatusOr<AuditRecord> ParseRecord(std::string_view line) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) {
    return Status(Code::kInvalidArgument, "not a JSON object: " + ec.message());
  }
  const boost::json::object& o = value.get_object();

  AuditRecord r;
  SIGNET_ASSIGN_OR_RETURN(int64_t seq, GetInt(o, "seq"));
  r.seq = static_cast<uint64_t>(seq);
  SIGNET_ASSIGN_OR_RETURN(r.time, GetString(o, "time"));
  SIGNET_ASSIGN_OR_RETURN(std::string kind, GetString(o, "kind"));
  SIGNET_ASSIGN_OR_RETURN(r.key, GetString(o, "key"));
  SIGNET_ASSIGN_OR_RETURN(r.prev, GetString(o, "prev"));
  SIGNET_ASSIGN_OR_RETURN(r.hash, GetString(o, "hash"));

  if (kind == "checkpoint") {
    r.kind = RecordKind::kCheckpoint;
    SIGNET_RETURN_IF_ERROR(ParseCheckpointMembers(o, r));
    return r;
  }
  if (kind == "event") {
    r.kind = RecordKind::kEvent;
  } else if (kind == "recovery") {
    r.kind = RecordKind::kRecovery;
  } else {
    return Status(Code::kInvalidArgument, "unknown record kind '" + kind + "'");
  }
  SIGNET_RETURN_IF_ERROR(ParseEventMembers(o, r));
  return r;
}

std::string CheckpointPayload(uint64_t head_seq, std::string_view head_hash,
                              std::string_view head_time) {
  std::string out = "signet-audit-checkpoint-v1\n";
  out += std::to_string(head_seq);
  out += '\n';
  out += head_hash;
  out += '\n';
  out += head_time;
  out += '\n';
  return out;
}

}  // namespace signet::audit
