// The key catalogue: every key signet knows, its purpose, where it lives and
// where it is in its lifecycle.
//
//     prepared ──activate──▶ active ──retire──▶ retired ──destroy──▶ destroyed
//
// A KeyRecord names a key (kid), its purpose and algorithm, the backend that
// holds it and the reference that backend's LoadKey accepts, its public key,
// for CA keys its certificate, its state with the time and author of every
// transition, the end of its planned lifetime (rotation reads it) and the
// latest expiry of anything it signed (so it is known when it may be dropped).
// A Catalogue is the whole set, with a version that increases on every save.
//
// CatalogueStore keeps the catalogue behind load and compare-and-swap-save, so
// that a replicated store (etcd) can stand where the file store stands today.
// FileCatalogueStore keeps it as JSON in the state directory, replaced
// atomically (signer/atomic_file.h): a crash leaves the previous or the next
// catalogue, never a torn one.
//
// Thread safety: Catalogue and KeyRecord are values. CatalogueStore methods may
// be called from any thread; FileCatalogueStore serialises writers in this
// process and, with a lock file, across processes on the same directory.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signer/algorithm.h"
#include "signer/backend.h"
#include "signer/bytes.h"
#include "signer/clock.h"
#include "signer/status.h"

namespace signet {

enum class KeyState { kPrepared, kActive, kRetired, kDestroyed };

// "prepared", "active", "retired", "destroyed".
std::string_view KeyStateName(KeyState state);
StatusOr<KeyState> ParseKeyState(std::string_view name);

// Which CA an x509-ca key is; kNone for every other purpose.
enum class CaRole { kNone, kRoot, kIntermediate };

// "", "root", "intermediate".
std::string_view CaRoleName(CaRole role);

// One step in a key's life, and what an audit record of it needs.
struct KeyTransition {
  KeyState to = KeyState::kPrepared;
  TimePoint at{};
  std::string by;      // the custodian's identity, or "signet/rotation" for the automatic rule
  std::string reason;  // optional free text ("scheduled", "forced", "compromise")
};

struct KeyRecord {
  std::string kid;
  Purpose purpose = Purpose::kJwt;
  Algorithm algorithm = Algorithm::kES256;
  std::string backend;      // Backend::name()
  std::string backend_ref;  // what that backend's LoadKey accepts
  Bytes spki_der;           // public key, DER SubjectPublicKeyInfo
  CaRole ca_role = CaRole::kNone;
  Bytes cert_der;      // x509-ca keys: the CA certificate
  std::string issuer;  // intermediates: kid of the root that signed cert_der
  KeyState state = KeyState::kPrepared;
  TimePoint not_after{};  // end of the planned lifetime (a CA key: its certificate's notAfter)
  std::optional<TimePoint> latest_signed_expiry;  // latest exp/notAfter of what it signed
  std::vector<KeyTransition> history;             // oldest first; the last is `state`

  // When the key entered `s`, if it ever did.
  std::optional<TimePoint> TimeOf(KeyState s) const;

  // True while something this key signed may still be valid at `now`.
  bool HasUnexpiredCredentials(TimePoint now) const;
};

struct Catalogue {
  uint64_t version = 0;  // 0: never saved
  std::vector<KeyRecord> keys;

  KeyRecord* Find(std::string_view kid);
  const KeyRecord* Find(std::string_view kid) const;
};

// JSON text of a catalogue, and back. Parsing checks every field and names the
// first bad one ("keys[2].state: 'actve' is not a key state").
std::string CatalogueToJson(const Catalogue& catalogue);
StatusOr<Catalogue> CatalogueFromJson(std::string_view text, std::string_view source);

class CatalogueStore {
 public:
  virtual ~CatalogueStore() = default;

  // The stored catalogue; an empty one with version 0 when nothing is stored yet.
  virtual StatusOr<Catalogue> Load() = 0;

  // Stores `next` if the stored version is still `expected_version`, giving it
  // version expected_version + 1 (written into `next`). kFailedPrecondition when
  // someone else saved in between: load again, reapply, retry.
  virtual Status CompareAndSwap(uint64_t expected_version, Catalogue& next) = 0;
};

// The catalogue as `<dir>/catalogue.json`, with `<dir>/catalogue.lock` serialising writers.
class FileCatalogueStore : public CatalogueStore {
 public:
  explicit FileCatalogueStore(std::string state_dir);

  StatusOr<Catalogue> Load() override;
  Status CompareAndSwap(uint64_t expected_version, Catalogue& next) override;

  const std::string& path() const { return path_; }

 private:
  StatusOr<Catalogue> LoadLocked();

  const std::string path_;
  const std::string lock_path_;
  std::mutex mu_;
};

}  // namespace signet
