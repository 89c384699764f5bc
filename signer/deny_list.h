// DenyList: identities that are terminated and must get no credential.
//
// Entries are SPIFFE IDs or access-token principals (e.g. "user:smith"),
// compared exactly. The Minter consults it for the subject of every credential
// and for every actor inside an `act` chain. A custodian command (or the etcd
// watch in ha/) changes it at run time; a change takes effect for every request
// authorised after it returns.
//
// Thread safety: all methods may be called from any thread at any time.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace signet {

class DenyList {
 public:
  // Adds an identity; returns false when it was already there.
  bool Add(std::string identity);

  // Removes an identity; returns false when it was not there.
  bool Remove(std::string_view identity);

  // Replaces the whole list (e.g. after reloading from shared state).
  void Replace(std::vector<std::string> identities);

  bool Contains(std::string_view identity) const;

  std::vector<std::string> Snapshot() const;

  // Increases on every change; lets a watcher tell whether it is current.
  uint64_t version() const;

 private:
  mutable std::mutex mu_;
  std::set<std::string, std::less<>> entries_;
  uint64_t version_ = 0;
};

}  // namespace signet
