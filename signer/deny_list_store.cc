#include "signer/deny_list_store.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

#include "signer/atomic_file.h"

namespace signet {
namespace {

namespace json = boost::json;

Status Bad(const std::string& where, const std::string& what) {
  return Status(Code::kInvalidArgument, where + ": " + what);
}

std::string ToJson(const std::vector<DenyEntry>& entries) {
  json::array array;
  for (const DenyEntry& e : entries) {
    json::object o;
    o["identity"] = e.identity;
    if (!e.reason.empty()) {
      o["reason"] = e.reason;
    }
    o["added_at"] = UnixSeconds(e.added_at);
    o["added_by"] = e.added_by;
    array.push_back(std::move(o));
  }
  json::object root;
  root["format"] = 1;
  root["denied"] = std::move(array);
  return json::serialize(root) + "\n";
}

StatusOr<std::vector<DenyEntry>> FromJson(std::string_view text, const std::string& source) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) {
    return Bad(source, "not JSON: " + ec.message());
  }
  const json::value* denied = root.is_object() ? root.as_object().if_contains("denied") : nullptr;
  if (denied == nullptr || !denied->is_array()) {
    return Bad(source + ".denied", "must be an array");
  }
  std::vector<DenyEntry> entries;
  for (size_t i = 0; i < denied->as_array().size(); ++i) {
    std::string at = source + ".denied[" + std::to_string(i) + "]";
    const json::value& v = denied->as_array()[i];
    const json::object* o = v.if_object();
    if (o == nullptr) {
      return Bad(at, "must be an object");
    }
    const json::value* identity = o->if_contains("identity");
    const json::value* added_at = o->if_contains("added_at");
    const json::value* added_by = o->if_contains("added_by");
    const json::value* reason = o->if_contains("reason");
    if (identity == nullptr || !identity->is_string() || identity->as_string().empty()) {
      return Bad(at + ".identity", "must be a non-empty string");
    }
    if (added_at == nullptr || !added_at->is_int64()) {
      return Bad(at + ".added_at", "must be an integer");
    }
    if (added_by == nullptr || !added_by->is_string()) {
      return Bad(at + ".added_by", "must be a string");
    }
    if (reason != nullptr && !reason->is_string()) {
      return Bad(at + ".reason", "must be a string");
    }
    entries.push_back({std::string(identity->as_string()),
                       reason ? std::string(reason->as_string()) : std::string(),
                       FromUnixSeconds(added_at->as_int64()), std::string(added_by->as_string())});
  }
  return entries;
}

std::vector<std::string> Identities(const std::vector<DenyEntry>& entries) {
  std::vector<std::string> ids;
  for (const DenyEntry& e : entries) {
    ids.push_back(e.identity);
  }
  return ids;
}

}  // namespace

DenyListStore::DenyListStore(std::string state_dir, std::shared_ptr<DenyList> deny)
    : path_(state_dir + "/deny_list.json"),
      lock_path_(state_dir + "/deny_list.lock"),
      deny_(std::move(deny)) {}

StatusOr<std::unique_ptr<DenyListStore>> DenyListStore::Open(std::string state_dir,
                                                             std::shared_ptr<DenyList> deny) {
  if (!deny) {
    return Status(Code::kInvalidArgument, "DenyListStore::Open: deny list is null");
  }
  std::unique_ptr<DenyListStore> store(new DenyListStore(std::move(state_dir), std::move(deny)));
  SIGNET_RETURN_IF_ERROR(store->Reload());
  return store;
}

StatusOr<std::vector<DenyEntry>> DenyListStore::ReadLocked() const {
  SIGNET_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadFileIfExists(path_));
  if (!text) {
    return std::vector<DenyEntry>();
  }
  return FromJson(*text, path_);
}

Status DenyListStore::WriteLocked(const std::vector<DenyEntry>& entries) {
  SIGNET_RETURN_IF_ERROR(WriteFileAtomically(path_, ToJson(entries)));
  entries_ = entries;
  deny_->Replace(Identities(entries_));
  return OkStatus();
}

Status DenyListStore::Add(std::string identity, std::string reason, std::string by, TimePoint now) {
  if (identity.empty()) {
    return Status(Code::kInvalidArgument, "deny list: identity is empty");
  }
  std::lock_guard<std::mutex> lock(mu_);
  SIGNET_ASSIGN_OR_RETURN(FileLock file_lock, FileLock::Acquire(lock_path_));
  SIGNET_ASSIGN_OR_RETURN(std::vector<DenyEntry> entries, ReadLocked());

  for (const DenyEntry& e : entries) {
    if (e.identity == identity) {
      return Status(Code::kAlreadyExists, "'" + identity + "' is already on the deny list");
    }
  }
  entries.push_back({std::move(identity), std::move(reason), now, std::move(by)});
  std::sort(entries.begin(), entries.end(),
            [](const DenyEntry& a, const DenyEntry& b) { return a.identity < b.identity; });
  return WriteLocked(entries);
}

Status DenyListStore::Remove(std::string_view identity) {
  std::lock_guard<std::mutex> lock(mu_);
  SIGNET_ASSIGN_OR_RETURN(FileLock file_lock, FileLock::Acquire(lock_path_));
  SIGNET_ASSIGN_OR_RETURN(std::vector<DenyEntry> entries, ReadLocked());

  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const DenyEntry& e) { return e.identity == identity; });
  if (it == entries.end()) {
    return Status(Code::kNotFound, "'" + std::string(identity) + "' is not on the deny list");
  }
  entries.erase(it);
  return WriteLocked(entries);
}

std::vector<DenyEntry> DenyListStore::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

Status DenyListStore::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  SIGNET_ASSIGN_OR_RETURN(std::vector<DenyEntry> entries, ReadLocked());
  entries_ = std::move(entries);
  deny_->Replace(Identities(entries_));
  return OkStatus();
}

}  // namespace signet
