#include "signer/audit/record.h"

#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "signer/bytes.h"
#include "signer/ossl.h"

namespace signet::audit {
namespace {

constexpr std::string_view kHashMember = ",\"hash\":\"";
constexpr size_t kHexHashSize = 64;

// Length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view text) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  uint8_t lead = byte(0);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xe  ? 3
                  : (lead >> 3) == 0x1e ? 4
                                        : 0;
  if (length == 0 || length > text.size() || (length == 2 && lead < 0xc2)) {
    return 0;
  }
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) {
      return 0;
    }
  }
  if (length == 3) {
    uint32_t cp = ((lead & 0x0fu) << 12) | ((byte(1) & 0x3fu) << 6) | (byte(2) & 0x3fu);
    if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) {
      return 0;
    }
  }
  if (length == 4) {
    uint32_t cp = ((lead & 0x07u) << 18) | ((byte(1) & 0x3fu) << 12);
    if (cp < 0x10000 || cp > 0x10ffff) {
      return 0;
    }
  }
  return length;
}

// Appends `text` as a JSON string in the canonical form (docs/audit.md).
void AppendString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  while (!text.empty()) {
    size_t plain = 0;  // a run of printable ASCII that needs no escaping, copied at once
    while (plain < text.size() && static_cast<uint8_t>(text[plain]) >= 0x20 &&
           static_cast<uint8_t>(text[plain]) < 0x80 && text[plain] != '"' && text[plain] != '\\') {
      ++plain;
    }
    out.append(text.substr(0, plain));
    text.remove_prefix(plain);
    if (text.empty()) {
      break;
    }
    char c = text[0];
    auto u = static_cast<uint8_t>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      const char* named = c == '\n'   ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                                      : nullptr;
      if (named != nullptr) {
        out += named;
      } else {
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      }
    } else if (u < 0x80) {
      out += c;
    } else {
      size_t length = Utf8SequenceLength(text);
      if (length == 0) {
        out += "\\ufffd";
        length = 1;
      } else {
        out.append(text.substr(0, length));
      }
      text.remove_prefix(length);
      continue;
    }
    text.remove_prefix(1);
  }
  out += '"';
}

// Appends `"name":` and the value.
void Member(std::string& out, std::string_view name, std::string_view value) {
  out += '"';
  out += name;
  out += "\":";
  AppendString(out, value);
  out += ',';
}

void Member(std::string& out, std::string_view name, int64_t value) {
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(value);
  out += ',';
}

// Appends the record in canonical form without `hash`: `{"seq":...,"prev":"..."}`.
void AppendCanonical(const AuditRecord& r, std::string& out) {
  out += '{';
  Member(out, "seq", static_cast<int64_t>(r.seq));
  Member(out, "time", r.time);
  Member(out, "kind", RecordKindName(r.kind));
  if (r.kind == RecordKind::kCheckpoint) {
    Member(out, "key", r.key);
    Member(out, "head_seq", static_cast<int64_t>(r.checkpoint.head_seq));
    Member(out, "head_hash", r.checkpoint.head_hash);
    Member(out, "head_time", r.checkpoint.head_time);
    Member(out, "alg", r.checkpoint.algorithm);
    Member(out, "sig", r.checkpoint.signature);
  } else {
    Member(out, "caller", r.caller);
    Member(out, "op", r.op);
    Member(out, "key", r.key);
    Member(out, "subject", r.subject);
    out += "\"aud\":[";
    for (size_t i = 0; i < r.audiences.size(); ++i) {
      out += i == 0 ? "" : ",";
      AppendString(out, r.audiences[i]);
    }
    out += "],\"act\":[";
    for (size_t i = 0; i < r.act.size(); ++i) {
      out += i == 0 ? "{\"sub\":" : ",{\"sub\":";
      AppendString(out, r.act[i].sub);
      if (!r.act[i].iss.empty()) {
        out += ",\"iss\":";
        AppendString(out, r.act[i].iss);
      }
      out += '}';
    }
    out += "],";
    Member(out, "jti", r.jti);
    Member(out, "serial", r.serial);
    Member(out, "ttl", r.ttl_seconds);
    Member(out, "result", r.granted ? "granted" : "refused");
    Member(out, "reason", r.reason);
    Member(out, "digest", r.digest);
  }
  out += "\"prev\":";
  AppendString(out, r.prev);
  out += '}';
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

std::string JsonString(std::string_view text) {
  std::string out;
  AppendString(out, text);
  return out;
}

std::string Sha256Hex(std::string_view data) {
  // Fetched once, and one context per thread: looking the algorithm up, or making and wiping
  // a context, on every call costs more than hashing a record.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const ossl::MdCtxPtr context(EVP_MD_CTX_new());
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (sha256 == nullptr || context == nullptr ||
      EVP_DigestInit_ex(context.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    return std::string(kZeroHash.size(), '!');  // never equal to a real hash
  }
  return HexEncode(ByteView(digest, length));
}

std::string EncodeRecord(AuditRecord& record) {
  std::string line;
  line.reserve(640);
  AppendEncodedRecord(record, line);
  return line;
}

void AppendEncodedRecord(AuditRecord& record, std::string& out) {
  size_t start = out.size();
  AppendCanonical(record, out);
  record.hash = Sha256Hex(std::string_view(out).substr(start));

  out.pop_back();  // the closing brace
  out.append(kHashMember);
  out.append(record.hash);
  out.append("\"}");
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
