// KeyService: signetd's keys when they come from the key catalogue (a state_dir is set).
//
// At start it imports the config's [[key]] entries that the catalogue does not hold yet,
// loads every key that signs or is published, and hands them to the Minter (KeyManager).
// Then, on its own thread, it:
//   - applies the rotation rule and re-reads the catalogue every rotation.interval, so a
//     change made by an offline signetctl is taken in without a restart;
//   - re-reads the deny list within a second of its file changing;
//   - runs custodian commands (AdminService) one at a time, off the network threads;
// and records every key transition, deny-list change and refused custodian command in the
// audit log, with who did it.
//
// Lifetime: the KeyRing (backends), the Minter and the audit log must outlive the service;
// the destructor stops its thread after the command in progress.
// Thread safety: all methods may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ipc/request_handler.h"
#include "signer/audit/log.h"
#include "signer/deny_list_store.h"
#include "signer/key_manager.h"
#include "signer/minter.h"
#include "tools/signetd/backends.h"
#include "tools/signetd/config.h"

namespace signet {

class KeyService {
 public:
  // Imports, opens and applies the rotation rule once; the transitions this made are recorded
  // when Start() gives the audit log. Errors name the key or file that failed.
  static StatusOr<std::unique_ptr<KeyService>> Open(const DaemonConfig& config, const KeyRing& ring,
                                                    Minter& minter,
                                                    std::shared_ptr<DenyList> deny_list);
  ~KeyService();

  // Records what Open did in `log` (may be null) and starts the periodic work.
  void Start(audit::AuditLog* log);

  // Runs a custodian command for `caller` (already authorised) on the service's thread.
  void RunAdmin(const ipc::Caller& caller, const ipc::pb::AdminRequest& request,
                ipc::ResponseCallback done);

  // Runs `job` on the service's thread, after the commands queued before it.
  void Post(std::function<void()> job);

  // What a key operation reports to the catalogue: `kid` signed something valid until `exp`.
  void NoteIssued(const std::string& kid, TimePoint expires_at);

  // The active audit key, or null (then the audit log is not checkpointed).
  std::shared_ptr<SigningKey> AuditKey() const;
  std::string AuditKeyId() const;

  // The kid of the intermediate that issues X.509-SVIDs now ("" when none).
  std::string ActiveCaKid() const;

 private:
  struct Worker;
  KeyService() = default;

  void Record(std::vector<audit::AuditRecord> records);
  void Tick();  // applies the rotation rule, then arms the next tick
  void ArmTick();
  void CheckDenyList();
  void Refresh();  // after a change: the kids handed out by ActiveCaKid/AuditKeyId

  std::unique_ptr<KeyManager> keys_;
  std::unique_ptr<DenyListStore> deny_store_;
  std::vector<KeyTransitionRecord> opened_;  // transitions made by Open, recorded by Start
  audit::AuditLog* log_ = nullptr;
  std::chrono::seconds interval_{10};

  mutable std::mutex mu_;  // guards the two below
  std::string active_ca_kid_;
  std::string audit_kid_;

  std::unique_ptr<Worker> worker_;  // last: stopped first
};

}  // namespace signet
