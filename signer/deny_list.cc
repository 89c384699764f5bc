#include "signer/deny_list.h"

namespace signet {

bool DenyList::Add(std::string identity) {
  std::lock_guard<std::mutex> lock(mu_);
  bool added = entries_.insert(std::move(identity)).second;
  if (added) {
    ++version_;
  }
  return added;
}

bool DenyList::Remove(std::string_view identity) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(identity);
  if (it == entries_.end()) {
    return false;
  }
  entries_.erase(it);
  ++version_;
  return true;
}

void DenyList::Replace(std::vector<std::string> identities) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_ = std::set<std::string, std::less<>>(std::make_move_iterator(identities.begin()),
                                                std::make_move_iterator(identities.end()));
  ++version_;
}

bool DenyList::Contains(std::string_view identity) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.find(identity) != entries_.end();
}

std::vector<std::string> DenyList::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {entries_.begin(), entries_.end()};
}

uint64_t DenyList::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

}  // namespace signet
