// DenyListStore: the deny list kept in the state directory, so a terminated
// identity stays terminated across restarts.
//
// The store owns the durable form (`<dir>/deny_list.json`: each identity with
// the reason, when and by whom it was added) and keeps a shared DenyList, the
// one the Minter consults, equal to it. Add and Remove write the file first
// (atomically, signer/atomic_file.h) and then change the DenyList, so the change
// is in force for every request authorised after the call returns and survives
// a crash from that moment on. Reload() re-reads the file (e.g. after another
// process, an offline signetctl, changed it).
//
// Lifetime: the store shares ownership of the DenyList.
// Thread safety: all methods may be called from any thread; writers in several
// processes are serialised by `<dir>/deny_list.lock`.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "signer/clock.h"
#include "signer/deny_list.h"
#include "signer/status.h"

namespace signet {

struct DenyEntry {
  std::string identity;  // SPIFFE ID or access-token principal, compared exactly
  std::string reason;    // optional
  TimePoint added_at{};
  std::string added_by;
};

class DenyListStore {
 public:
  // Reads `<state_dir>/deny_list.json` (absent: empty) into `deny`.
  static StatusOr<std::unique_ptr<DenyListStore>> Open(std::string state_dir,
                                                       std::shared_ptr<DenyList> deny);

  // Terminates `identity`. kAlreadyExists when it is already denied.
  Status Add(std::string identity, std::string reason, std::string by, TimePoint now);

  // Lifts a termination. kNotFound when `identity` is not denied.
  Status Remove(std::string_view identity);

  // Every entry, sorted by identity.
  std::vector<DenyEntry> List() const;

  // Re-reads the file and replaces the DenyList with it.
  Status Reload();

  const std::shared_ptr<DenyList>& deny_list() const { return deny_; }
  const std::string& path() const { return path_; }

 private:
  DenyListStore(std::string state_dir, std::shared_ptr<DenyList> deny);
  StatusOr<std::vector<DenyEntry>> ReadLocked() const;
  Status WriteLocked(const std::vector<DenyEntry>& entries);

  const std::string path_;
  const std::string lock_path_;
  const std::shared_ptr<DenyList> deny_;
  mutable std::mutex mu_;
  std::vector<DenyEntry> entries_;
};

}  // namespace signet
