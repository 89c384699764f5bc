// TpmDevice: one connection to a TPM through tpm2-tss ESAPI, and everything
// that lives only as long as that connection: the storage root key, the
// authorization session, and the signing keys currently loaded.
//
// The storage root key (SRK) is not kept at a persistent handle: it is created
// again with TPM2_CreatePrimary from the standard template (tpm_keys.h) each
// time the device connects. The owner hierarchy's seed makes it the same key
// every time, so nothing has to be provisioned in the TPM and a key blob made
// under one connection loads under the next.
//
// When a command fails because the connection or the TPM went away (a TCTI I/O
// error, TPM_RC_INITIALIZE after a TPM reset), the device drops the connection
// and the command fails with kUnavailable; the next command connects again
// (TCTI, Esys_Initialize, Esys_Startup when the TPM asks for it, SRK, session)
// and reloads its key from the persistent handle or the blobs. Commands never
// retry on their own after a wrong authorization value: the TPM counts each
// failure towards its dictionary-attack lockout.
//
// Thread safety: none. A TpmDevice belongs to the TPM backend's single worker
// thread; the TPM runs one command at a time anyway.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>

#include "backends/tpm/tpm_keys.h"
#include "backends/tpm/tss_handles.h"
#include "signer/algorithm.h"
#include "signer/bytes.h"
#include "signer/secret.h"
#include "signer/status.h"

namespace signet::tpm {

enum class SessionMode {
  kHmac,      // salted HMAC session with parameter encryption (the default)
  kPassword,  // the authorization value crosses the bus in the clear
};

struct DeviceOptions {
  std::string tcti;  // for Tss2_TctiLdr_Initialize: "device:/dev/tpmrm0", "swtpm:...", "tabrmd"
  SessionMode session = SessionMode::kHmac;
  Secret owner_auth;           // the owner hierarchy's authorization; empty on most machines
  size_t max_loaded_keys = 2;  // transient key slots to use; swtpm without a resource manager
                               // has three object slots and the SRK takes one
  int32_t command_timeout_ms = 60000;  // RSA key generation on a real TPM takes seconds
};

// What the device needs to (re)load a key. Owned by the caller; `id` is unique
// for the life of the device.
struct KeyDescriptor {
  uint64_t id = 0;
  std::string label;
  Algorithm algorithm = Algorithm::kES256;
  std::optional<TPM2_HANDLE> persistent_handle;  // set: the key lives at this handle
  KeyBlobs blobs;                                // otherwise: load these under the SRK
  Secret auth;
};

class TpmDevice {
 public:
  explicit TpmDevice(DeviceOptions options);
  ~TpmDevice();
  TpmDevice(const TpmDevice&) = delete;
  TpmDevice& operator=(const TpmDevice&) = delete;

  // Connects now if not connected; kUnavailable when the TPM cannot be reached.
  Status Connect();

  // Asks the TPM (TPM2_TestParms) whether it can hold a key with this template.
  Status CheckSupported(const TPM2B_PUBLIC& key_template, const std::string& what);

  // Creates a key under the SRK with the given authorization value.
  StatusOr<KeyBlobs> CreateKey(const TPM2B_PUBLIC& key_template, const Secret& auth);

  // Makes a created key persistent at the first free handle at or above `first`.
  StatusOr<TPM2_HANDLE> Persist(const KeyBlobs& blobs, TPM2_HANDLE first);

  // The public area of the key at a persistent handle; kNotFound when there is none.
  StatusOr<TPM2B_PUBLIC> ReadPersistentPublic(TPM2_HANDLE handle);

  // Removes a persistent key from the TPM's NV memory.
  Status EvictPersistent(TPM2_HANDLE handle);

  // Loads the key (if it is not loaded already) so that a broken blob is found now.
  Status Prepare(const KeyDescriptor& key);

  // Signs a digest with the key's bound scheme; loads or reloads the key as needed.
  StatusOr<TPMT_SIGNATURE> Sign(const KeyDescriptor& key, ByteView digest);

  // Flushes the key from the TPM's memory if it is loaded.
  void Unload(uint64_t key_id);

 private:
  struct LoadedKey {
    EsysObject object;
    std::list<uint64_t>::iterator lru_position;
  };

  // Fails `call` with `rc`, dropping the connection or the session when the
  // code says they are no longer usable.
  Status Fail(std::string_view call, TSS2_RC rc);
  Status ConnectOnce();
  void Disconnect();
  Status StartupIfNeeded();
  Status CreateSrk();
  Status StartSession();

  // The session to authorize one command with, its attributes set for that command.
  StatusOr<ESYS_TR> AuthSession(TPMA_SESSION attributes);

  StatusOr<ESYS_TR> LoadedHandle(const KeyDescriptor& key);
  StatusOr<EsysObject> LoadBlobs(const KeyBlobs& blobs, const std::string& what);

  // Runs `command`; while the TPM is out of object slots (TPM_RC_OBJECT_MEMORY),
  // flushes the least recently used key other than `keep` and runs it again.
  TSS2_RC WithObjectRoom(const std::function<TSS2_RC()>& command, uint64_t keep = 0);

  // Flushes the least recently used key other than `keep`; false when there is none.
  bool EvictLeastRecentlyUsed(uint64_t keep = 0);

  const DeviceOptions options_;
  std::chrono::steady_clock::time_point last_failure_{};

  // Destroyed in reverse order: keys and session before the SRK, all before the
  // ESAPI context, which goes before its TCTI.
  TctiContext tcti_;
  EsysContext ctx_;
  EsysObject srk_;
  EsysObject session_;
  std::map<uint64_t, LoadedKey> loaded_;
  std::list<uint64_t> lru_;  // most recently used first
};

}  // namespace signet::tpm
