#include "signer/key_catalogue.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "signer/atomic_file.h"

namespace signet {
namespace {

namespace json = boost::json;

constexpr int kFormat = 1;

Status Bad(const std::string& where, const std::string& what) {
  return Status(Code::kInvalidArgument, where + ": " + what);
}

// Field readers: each names the field's path when it is missing or of the wrong type.
StatusOr<std::string> GetString(const json::object& o, const char* key, const std::string& at,
                                bool required = true) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    if (required) {
      return Bad(at + "." + key, "missing");
    }
    return std::string();
  }
  if (!v->is_string()) {
    return Bad(at + "." + key, "must be a string");
  }
  return std::string(v->as_string());
}

StatusOr<int64_t> GetInt(const json::object& o, const char* key, const std::string& at) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_int64()) {
    return Bad(at + "." + key, "must be an integer");
  }
  return v->as_int64();
}

StatusOr<Bytes> GetBytes(const json::object& o, const char* key, const std::string& at) {
  SIGNET_ASSIGN_OR_RETURN(std::string text, GetString(o, key, at, false));
  StatusOr<Bytes> bytes = Base64UrlDecode(text);
  if (!bytes.ok()) {
    return bytes.status().WithContext(at + "." + key + ": ");
  }
  return bytes;
}

StatusOr<CaRole> ParseCaRole(std::string_view name) {
  for (CaRole r : {CaRole::kNone, CaRole::kRoot, CaRole::kIntermediate}) {
    if (CaRoleName(r) == name) {
      return r;
    }
  }
  return Status(Code::kInvalidArgument, "'" + std::string(name) + "' is not a CA role");
}

template <typename T>
StatusOr<T> InField(StatusOr<T> v, const std::string& at) {
  if (!v.ok()) {
    return v.status().WithContext(at + ": ");
  }
  return v;
}

json::object RecordToJson(const KeyRecord& k) {
  json::object o;
  o["kid"] = k.kid;
  o["purpose"] = PurposeName(k.purpose);
  o["algorithm"] = AlgorithmName(k.algorithm);
  o["backend"] = k.backend;
  o["backend_ref"] = k.backend_ref;
  o["spki"] = Base64UrlEncode(k.spki_der);
  if (k.ca_role != CaRole::kNone) {
    o["ca_role"] = CaRoleName(k.ca_role);
    o["cert"] = Base64UrlEncode(k.cert_der);
  }
  if (!k.issuer.empty()) {
    o["issuer"] = k.issuer;
  }
  o["state"] = KeyStateName(k.state);
  o["not_after"] = UnixSeconds(k.not_after);
  if (k.latest_signed_expiry) {
    o["latest_signed_expiry"] = UnixSeconds(*k.latest_signed_expiry);
  }
  json::array history;
  for (const KeyTransition& t : k.history) {
    json::object h;
    h["to"] = KeyStateName(t.to);
    h["at"] = UnixSeconds(t.at);
    h["by"] = t.by;
    if (!t.reason.empty()) {
      h["reason"] = t.reason;
    }
    history.push_back(std::move(h));
  }
  o["history"] = std::move(history);
  return o;
}

StatusOr<KeyRecord> RecordFromJson(const json::value& v, const std::string& at) {
  if (!v.is_object()) {
    return Bad(at, "must be an object");
  }
  const json::object& o = v.as_object();
  KeyRecord k;
  SIGNET_ASSIGN_OR_RETURN(k.kid, GetString(o, "kid", at));
  SIGNET_ASSIGN_OR_RETURN(std::string purpose, GetString(o, "purpose", at));
  SIGNET_ASSIGN_OR_RETURN(k.purpose, InField(ParsePurpose(purpose), at + ".purpose"));
  SIGNET_ASSIGN_OR_RETURN(std::string alg, GetString(o, "algorithm", at));
  SIGNET_ASSIGN_OR_RETURN(k.algorithm, InField(ParseAlgorithm(alg), at + ".algorithm"));
  SIGNET_ASSIGN_OR_RETURN(k.backend, GetString(o, "backend", at));
  SIGNET_ASSIGN_OR_RETURN(k.backend_ref, GetString(o, "backend_ref", at));
  SIGNET_ASSIGN_OR_RETURN(k.spki_der, GetBytes(o, "spki", at));
  SIGNET_ASSIGN_OR_RETURN(std::string role, GetString(o, "ca_role", at, false));
  SIGNET_ASSIGN_OR_RETURN(k.ca_role, InField(ParseCaRole(role), at + ".ca_role"));
  SIGNET_ASSIGN_OR_RETURN(k.cert_der, GetBytes(o, "cert", at));
  SIGNET_ASSIGN_OR_RETURN(k.issuer, GetString(o, "issuer", at, false));
  SIGNET_ASSIGN_OR_RETURN(std::string state, GetString(o, "state", at));
  SIGNET_ASSIGN_OR_RETURN(k.state, InField(ParseKeyState(state), at + ".state"));
  SIGNET_ASSIGN_OR_RETURN(int64_t not_after, GetInt(o, "not_after", at));
  k.not_after = FromUnixSeconds(not_after);
  if (o.contains("latest_signed_expiry")) {
    SIGNET_ASSIGN_OR_RETURN(int64_t latest, GetInt(o, "latest_signed_expiry", at));
    k.latest_signed_expiry = FromUnixSeconds(latest);
  }

  const json::value* history = o.if_contains("history");
  if (history == nullptr || !history->is_array()) {
    return Bad(at + ".history", "must be an array");
  }
  for (size_t i = 0; i < history->as_array().size(); ++i) {
    std::string hat = at + ".history[" + std::to_string(i) + "]";
    const json::value& hv = history->as_array()[i];
    if (!hv.is_object()) {
      return Bad(hat, "must be an object");
    }
    KeyTransition t;
    SIGNET_ASSIGN_OR_RETURN(std::string to, GetString(hv.as_object(), "to", hat));
    SIGNET_ASSIGN_OR_RETURN(t.to, InField(ParseKeyState(to), hat + ".to"));
    SIGNET_ASSIGN_OR_RETURN(int64_t when, GetInt(hv.as_object(), "at", hat));
    t.at = FromUnixSeconds(when);
    SIGNET_ASSIGN_OR_RETURN(t.by, GetString(hv.as_object(), "by", hat));
    SIGNET_ASSIGN_OR_RETURN(t.reason, GetString(hv.as_object(), "reason", hat, false));
    k.history.push_back(std::move(t));
  }
  return k;
}

}  // namespace

std::string_view KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kPrepared:
      return "prepared";
    case KeyState::kActive:
      return "active";
    case KeyState::kRetired:
      return "retired";
    case KeyState::kDestroyed:
      return "destroyed";
  }
  return "unknown";
}

StatusOr<KeyState> ParseKeyState(std::string_view name) {
  for (KeyState s :
       {KeyState::kPrepared, KeyState::kActive, KeyState::kRetired, KeyState::kDestroyed}) {
    if (KeyStateName(s) == name) {
      return s;
    }
  }
  return Status(
      Code::kInvalidArgument,
      "'" + std::string(name) + "' is not a key state (prepared, active, retired, destroyed)");
}

std::string_view CaRoleName(CaRole role) {
  switch (role) {
    case CaRole::kNone:
      return "";
    case CaRole::kRoot:
      return "root";
    case CaRole::kIntermediate:
      return "intermediate";
  }
  return "";
}

std::optional<TimePoint> KeyRecord::TimeOf(KeyState s) const {
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->to == s) {
      return it->at;
    }
  }
  return std::nullopt;
}

bool KeyRecord::HasUnexpiredCredentials(TimePoint now) const {
  return latest_signed_expiry.has_value() && *latest_signed_expiry > now;
}

KeyRecord* Catalogue::Find(std::string_view kid) {
  for (KeyRecord& k : keys) {
    if (k.kid == kid) {
      return &k;
    }
  }
  return nullptr;
}

const KeyRecord* Catalogue::Find(std::string_view kid) const {
  return const_cast<Catalogue*>(this)->Find(kid);
}

std::string CatalogueToJson(const Catalogue& catalogue) {
  json::object root;
  root["format"] = kFormat;
  root["version"] = catalogue.version;
  json::array keys;
  for (const KeyRecord& k : catalogue.keys) {
    keys.push_back(RecordToJson(k));
  }
  root["keys"] = std::move(keys);
  return json::serialize(root) + "\n";
}

StatusOr<Catalogue> CatalogueFromJson(std::string_view text, std::string_view source) {
  std::string at(source);
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) {
    return Bad(at, "not JSON: " + ec.message());
  }
  if (!root.is_object()) {
    return Bad(at, "must be a JSON object");
  }
  const json::object& o = root.as_object();
  SIGNET_ASSIGN_OR_RETURN(int64_t format, GetInt(o, "format", at));
  if (format != kFormat) {
    return Bad(at + ".format", "unsupported format " + std::to_string(format));
  }
  SIGNET_ASSIGN_OR_RETURN(int64_t version, GetInt(o, "version", at));
  Catalogue catalogue;
  catalogue.version = static_cast<uint64_t>(version);
  const json::value* keys = o.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) {
    return Bad(at + ".keys", "must be an array");
  }
  for (size_t i = 0; i < keys->as_array().size(); ++i) {
    SIGNET_ASSIGN_OR_RETURN(
        KeyRecord k, RecordFromJson(keys->as_array()[i], at + ".keys[" + std::to_string(i) + "]"));
    if (catalogue.Find(k.kid) != nullptr) {
      return Bad(at + ".keys[" + std::to_string(i) + "]", "duplicate kid '" + k.kid + "'");
    }
    catalogue.keys.push_back(std::move(k));
  }
  return catalogue;
}

FileCatalogueStore::FileCatalogueStore(std::string state_dir)
    : path_(state_dir + "/catalogue.json"), lock_path_(state_dir + "/catalogue.lock") {}

StatusOr<Catalogue> FileCatalogueStore::LoadLocked() {
  SIGNET_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadFileIfExists(path_));
  if (!text) {
    return Catalogue{};
  }
  return CatalogueFromJson(*text, path_);
}

StatusOr<Catalogue> FileCatalogueStore::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadLocked();
}

Status FileCatalogueStore::CompareAndSwap(uint64_t expected_version, Catalogue& next) {
  std::lock_guard<std::mutex> lock(mu_);
  SIGNET_ASSIGN_OR_RETURN(FileLock file_lock, FileLock::Acquire(lock_path_));

  SIGNET_ASSIGN_OR_RETURN(Catalogue current, LoadLocked());
  if (current.version != expected_version) {
    return Status(Code::kFailedPrecondition,
                  path_ + ": catalogue changed (version " + std::to_string(current.version) +
                      ", expected " + std::to_string(expected_version) + "); reload and retry");
  }

  Catalogue stored = next;
  stored.version = expected_version + 1;
  SIGNET_RETURN_IF_ERROR(WriteFileAtomically(path_, CatalogueToJson(stored)));
  next.version = stored.version;
  return OkStatus();
}

}  // namespace signet
