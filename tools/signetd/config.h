// DaemonConfig: everything signetd reads from its TOML config file, validated.
//
// The file names the backends (software, pkcs11, tpm), the keys by reference, which key
// signs JWTs and which CA key issues X.509-SVIDs (or a state directory whose key catalogue
// decides, with the rotation rule per purpose), where the IPC server and the HTTPS
// listener listen and with which TLS material, and the caller policy (inline [[caller]]
// tables or a policy file). docs/configuration.md documents every key.
//
// Loading never touches a device or a socket: it only checks that the text is complete and
// consistent, so `signetd --check-config` can run anywhere. Errors name the file, the key and
// what is wrong. Secrets are never in the text: a PIN or TPM authorization value is given by
// the name of an environment variable or the path of a 0600 file, and a `pin` or `auth` key
// written in the file is refused.
//
// Thread safety: a value.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "signer/backend.h"
#include "signer/ca.h"
#include "signer/rotation.h"
#include "signer/secret.h"
#include "signer/signature_check.h"
#include "signer/status.h"

namespace signet {

enum class BackendType { kSoftware, kPkcs11, kTpm, kSlowTest };  // kSlowTest: benchmarks only

struct BackendConfig {
  std::string name;  // how keys refer to it
  BackendType type = BackendType::kSoftware;

  // software and tpm
  std::string key_dir;  // software: "" keeps keys in memory only; tpm: where key blobs live

  // pkcs11
  std::string module;    // path of the PKCS#11 module (.so)
  std::string token;     // token label
  SecretSource pin;      // user PIN
  int64_t sessions = 0;  // signing sessions; 0 lets the backend size the pool

  // tpm
  std::string tcti;                        // e.g. "device:/dev/tpmrm0", "swtpm:port=2321"
  SecretSource auth;                       // authorization value of the keys
  std::optional<SecretSource> owner_auth;  // owner hierarchy; absent: empty
  bool password_session = false;           // true: plain password session (trusted bus only)

  int64_t workers = 0;  // signing threads (software, tpm); 0 lets the backend choose

  // slow-test (a simulated network HSM for benchmarks; `sessions` above is its parallelism)
  int64_t latency_us = 2000;  // per signature
};

struct KeyConfig {
  std::string id;       // the kid published in JWKS and written in tokens
  std::string backend;  // a BackendConfig::name
  Purpose purpose = Purpose::kJwt;
  std::string ref;              // what Backend::LoadKey accepts
  std::string certificate;      // x509-ca: PEM file with this key's CA certificate
  std::string chain;            // x509-ca: PEM file with the certificates above it, up to the root
  bool allow_software = false;  // x509-ca on the software backend: development only
};

struct TlsFiles {
  std::string certificate;  // PEM chain, leaf first
  std::string private_key;  // PEM private key
};

// How signetd looks after the keys in its catalogue (only with a state_dir).
struct RotationConfig {
  std::map<Purpose, RotationRule> rules;  // purposes rotated automatically; x509-ca: intermediates
  std::chrono::seconds interval{10};      // how often the rule runs and the catalogue is re-read
  bool destroy_expired_keys = false;      // destroy retired keys once nothing they signed is valid
  bool allow_software_ca = false;         // CA keys in the software backend (development only)
  CaCertificateSpec intermediate;         // subject of intermediates the rule issues
};

struct DaemonConfig {
  std::string path;  // the file this came from
  std::string trust_domain;
  std::string issuer;  // `iss` of access tokens (and JWT-SVIDs when set)
  std::string log_level = "info";

  std::vector<BackendConfig> backends;
  std::vector<KeyConfig> keys;
  std::string jwt_key;      // id of the active JWT signing key
  std::string x509_ca_key;  // id of the CA key that issues X.509-SVIDs; "" disables them

  std::string ipc_listen;       // "host:port"; "" disables TCP
  std::string ipc_unix_socket;  // path; "" disables the Unix socket
  TlsFiles ipc_tls;
  std::string ipc_client_ca;  // PEM bundle that client certificates must chain to

  std::string https_listen;  // "host:port"; "" disables the HTTPS listener
  TlsFiles https_tls;        // defaults to ipc_tls

  // Policy: the TOML text holding the [[caller]] tables, and the file to name in errors.
  std::string policy_text;
  std::string policy_source;
  std::string policy_file;  // set when policy_file was given, for reloads

  std::string audit_dir;                     // "" disables the audit log
  int64_t audit_checkpoint_records = 10000;  // a signed checkpoint after this many records
  int64_t audit_group_window_ms = 5;         // under load, at most one audit sync per window
  CheckRate check_rate;                      // which ECDSA signatures are verified after signing
  // The key catalogue and the deny list live here. With a state_dir, signetd's keys come from
  // the catalogue ([[key]] entries are imported into it once) and custodians change them through
  // signetd; without one, [[key]] and [minter] fix the keys and the deny list is in memory.
  std::string state_dir;
  RotationConfig rotation;

  bool KeysFromCatalogue() const { return !state_dir.empty(); }

  const KeyConfig* FindKey(const std::string& id) const;
  const BackendConfig* FindBackend(const std::string& name) const;
};

// Reads and validates a config file. kNotFound when the file is missing; kInvalidArgument
// naming the file and key for anything else.
StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path);

// The same, from text already in memory; `path` names it in errors and anchors relative
// paths.
StatusOr<DaemonConfig> ParseDaemonConfig(std::string_view text, const std::string& path);

// Splits "host:port" ("[::1]:7443" for IPv6); the port may be 0 (any free port).
Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port);

std::string_view BackendTypeName(BackendType type);

// The longest TTL the config's policy grants for any operation: how long after retirement a
// key's credentials may still be valid. An hour when the policy grants no TTL.
Seconds LongestGrantedTtl(const DaemonConfig& config);

}  // namespace signet
