// Minter: turns an authorised request into a signed, re-validated credential.
//
// The Minter holds the keys that sign (a KeySet), the caller policy, the deny
// list and the clock. For each request it (1) checks the caller's grant and the
// deny list, (2) builds the signing input, (3) queues the signature on the key's
// backend with SigningKey::Sign, and, on the backend's thread, (4) verifies the
// signature with the public key (unless the backend already verified it; a
// certificate's always), re-reads the produced token, or checks the certificate's
// bytes against the object built, and checks it says what policy allowed, and
// (5) completes `done` with the credential and the fields an audit record needs.
// Nothing unvalidated is ever handed to `done`.
//
// The asynchronous Mint* calls never block: refusals complete `done` on the
// calling thread before the call returns; everything else completes it on a
// backend thread. `done` runs exactly once; keep it short. The *AndWait wrappers
// block and are for tools and tests only, never for a network thread.
//
// Lifetime: the Minter must outlive every pending request; the backends behind
// its keys must outlive the Minter. Keys, policy and the deny list may be
// swapped at run time (SetKeys, SetPolicy; DenyList is shared); a request uses
// the keys and policy current when it was authorised.
//
// Choices made where the specifications leave room:
// - A TTL of 0 means the caller's granted maximum for that operation.
// - JWT-SVID and X.509-SVID subjects must be in Options::trust_domain (when set).
//   Access-token subjects and actors may be any principal; those that look like
//   SPIFFE IDs must be valid ones.
// - `aud` is a string when there is one audience, an array otherwise.
// - Order of checks: request syntax (kInvalidArgument), policy (kPermissionDenied),
//   deny list (kPermissionDenied), key availability (kFailedPrecondition/kNotFound);
//   nothing is signed unless all pass.
// - A CSR's extensions are ignored, so a CSR asking for CA=true still yields a
//   CA=false leaf (see signer/csr.h). The leaf subject is O=signet.
// - EdDSA keys are refused for JWT-SVIDs (kFailedPrecondition) and left out of the
//   SPIFFE bundle; they may sign access tokens and appear in the JWKS.
// - Times are whole seconds. The bundle's spiffe_sequence starts at the current
//   Unix time and grows by at least one whenever the published keys change.
//
// Thread safety: every method may be called from any thread at any time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "signer/backend.h"
#include "signer/clock.h"
#include "signer/deny_list.h"
#include "signer/policy.h"
#include "signer/signature_check.h"
#include "signer/status.h"

namespace signet {

// Who asks: the SPIFFE ID from the caller's mTLS client certificate.
struct Caller {
  std::string spiffe_id;
};

// One level of an RFC 8693 `act` chain.
struct Actor {
  std::string sub;  // e.g. spiffe://example.org/agent/refunds
  std::string iss;  // optional; omitted from the token when empty
};

// A JWT signing key with its published id.
struct JwtKey {
  std::string kid;
  std::shared_ptr<SigningKey> key;
  bool backend_verifies = false;  // the backend's Capabilities::verifies_signatures
};

// The CA that issues X.509-SVIDs: its key (in a backend) and its certificate.
struct X509Authority {
  std::shared_ptr<SigningKey> key;
  Bytes cert_der;                 // the issuing CA certificate
  std::vector<Bytes> chain_der;   // its issuers up to, not including, the root
  bool backend_verifies = false;  // the backend's Capabilities::verifies_signatures
};

// A key that signs digests for callers granted it by name.
struct RawKey {
  std::shared_ptr<SigningKey> key;
  bool backend_verifies = false;  // the backend's Capabilities::verifies_signatures
};

// The keys a Minter uses. Absent entries make the matching operation fail with
// kFailedPrecondition.
struct KeySet {
  std::optional<JwtKey> jwt_svid;      // active key for JWT-SVIDs (not EdDSA)
  std::optional<JwtKey> access_token;  // active key for access tokens (any algorithm)
  std::optional<X509Authority> x509_ca;
  std::map<std::string, RawKey, std::less<>> raw;  // by key name

  // Keys published but not signing (prepared, retired): in the JWKS and bundle too.
  std::vector<JwtKey> published_jwt;
  // Root certificates (DER) published as x509-svid authorities in the bundle.
  std::vector<Bytes> x509_roots;
};

struct JwtSvidRequest {
  std::string spiffe_id;               // the subject
  std::vector<std::string> audiences;  // at least one
  Seconds ttl{0};                      // 0: the caller's granted maximum
};

struct AccessTokenRequest {
  std::string subject;                 // principal on whose behalf the token acts
  std::vector<std::string> audiences;  // at least one
  std::string client_id;               // required
  std::vector<Actor> actors;           // the current actor first, back to the first actor
  std::string scope;                   // optional, space-separated
  Seconds ttl{0};
};

struct X509SvidRequest {
  std::string spiffe_id;
  std::string csr;  // PKCS#10, PEM or DER bytes
  Seconds ttl{0};
};

struct RawSignRequest {
  std::string key_name;  // a name in KeySet::raw
  Bytes digest;          // the hash of the message, sized for the key's algorithm
  SignatureFormat format = SignatureFormat::kDer;  // ECDSA only
};

// Fields every result carries for the audit log.
struct AuditFields {
  Operation operation = Operation::kJwtSvid;
  std::string caller;
  std::string kid;      // key id (JWT kid, CA subject key id in hex, or raw key name)
  std::string subject;  // SPIFFE ID or principal; empty for raw signatures
  std::vector<std::string> audiences;
  std::vector<Actor> actors;  // current actor first
  std::string jti;            // tokens
  std::string serial_hex;     // certificates
  TimePoint issued_at{};
  TimePoint expires_at{};
};

struct MintedToken {
  std::string token;  // compact JWS
  AuditFields audit;
};

struct MintedCertificate {
  Bytes cert_der;
  std::vector<Bytes> chain_der;  // issuing CA first, up to (not including) the root
  std::string pem;               // cert then chain, PEM
  AuditFields audit;
};

struct RawSignature {
  Bytes signature;
  Algorithm algorithm = Algorithm::kES256;
  AuditFields audit;
};

template <typename T>
using MintCallback = std::function<void(StatusOr<T>)>;

class Minter {
 public:
  struct Options {
    std::string trust_domain;         // e.g. "example.org"
    std::string jwt_svid_issuer;      // `iss` of JWT-SVIDs; empty: omitted
    bool jwt_svid_jti = false;        // add a random `jti` to JWT-SVIDs
    std::string access_token_issuer;  // `iss` of access tokens; required for them
    Seconds x509_backdate{10};        // notBefore = now - backdate
    Seconds bundle_refresh_hint{300};
    // How often the Minter verifies signatures of keys whose backend does not
    // (signer/signature_check.h).
    CheckRate check_rate;
    // Called with the audit fields of every credential handed out (on the thread
    // that completes `done`, just before it). KeyManager::NoteIssued listens here
    // to learn the latest expiry each key signed. Keep it short; never block.
    std::function<void(const AuditFields&)> on_issued;
  };

  Minter(Options options, std::shared_ptr<const Clock> clock, std::shared_ptr<const Policy> policy,
         std::shared_ptr<DenyList> deny_list);
  ~Minter();

  void SetKeys(KeySet keys);
  void SetPolicy(std::shared_ptr<const Policy> policy);

  void MintJwtSvid(const Caller& caller, JwtSvidRequest request, MintCallback<MintedToken> done);
  void MintAccessToken(const Caller& caller, AccessTokenRequest request,
                       MintCallback<MintedToken> done);
  void MintX509Svid(const Caller& caller, X509SvidRequest request,
                    MintCallback<MintedCertificate> done);
  void SignRaw(const Caller& caller, RawSignRequest request, MintCallback<RawSignature> done);

  // Blocking forms, for tools and tests.
  StatusOr<MintedToken> MintJwtSvidAndWait(const Caller& caller, JwtSvidRequest request);
  StatusOr<MintedToken> MintAccessTokenAndWait(const Caller& caller, AccessTokenRequest request);
  StatusOr<MintedCertificate> MintX509SvidAndWait(const Caller& caller, X509SvidRequest request);
  StatusOr<RawSignature> SignRawAndWait(const Caller& caller, RawSignRequest request);

  // The JWK Set of every JWT key (active and published), as JSON text.
  StatusOr<std::string> JwksJson() const;

  // The SPIFFE trust bundle (JWK Set with jwt-svid and x509-svid keys,
  // spiffe_sequence, spiffe_refresh_hint), as JSON text. The sequence increases
  // whenever the published content changes.
  StatusOr<std::string> SpiffeBundleJson() const;

  const Options& options() const { return options_; }

  // The policy in force (the last one SetPolicy gave).
  std::shared_ptr<const Policy> policy() const;

 private:
  struct State;
  std::shared_ptr<const KeySet> keys() const;

  const Options options_;
  const std::shared_ptr<const Clock> clock_;
  const std::shared_ptr<DenyList> deny_list_;
  mutable std::mutex mu_;
  std::shared_ptr<const KeySet> keys_;
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<State> state_;  // bundle sequence bookkeeping
};

}  // namespace signet
