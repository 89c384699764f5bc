// Pieces the Minter's source files share; not part of the public API.
#pragma once

#include <future>
#include <mutex>
#include <string>

#include "signer/minter.h"
#include "signer/ossl.h"
#include "signer/signature_check.h"

namespace signet {

namespace minter_internal {

// The check after signing for one key, its public key parsed once (in OpenSSL 3 parsing
// a SubjectPublicKeyInfo costs several times more than verifying a signature with it).
// The entry holds the key, so no other key can take its address while the entry lives:
// SetKeys carries the check of a key that stays in the key set over to the new set, with
// its state (the first signature already verified, or a failure's strict period).
struct KeyCheck {
  std::shared_ptr<SigningKey> key;
  std::shared_ptr<SignatureCheck> check;
};

// The checks of every key of the current key set.
using CheckMap = std::map<const SigningKey*, KeyCheck>;

// Checks with the key's SignatureCheck, or verifies after parsing the key when it has none.
Status CheckWith(const CheckMap& checks, const SigningKey& key, const SignRequest& request,
                 ByteView signature);

}  // namespace minter_internal

struct Minter::State {
  // Bundle bookkeeping: the last published key set and its sequence number.
  std::mutex mu;
  std::string last_keys;  // serialised `keys` array of the last bundle
  uint64_t sequence = 0;

  // Checks for the current key set; swapped with it, under Minter::mu_.
  std::shared_ptr<const minter_internal::CheckMap> checks =
      std::make_shared<const minter_internal::CheckMap>();

  // The issuing CA certificate of the current key set, parsed once (parsing costs
  // more than signing); null with the reason in `ca_error` when it does not parse.
  std::shared_ptr<X509> ca_cert;
  Status ca_error;
  // The public key of `ca_cert`, parsed once, for checking every certificate it issues.
  std::shared_ptr<const SignatureVerifier> ca_verifier;
};

namespace minter_internal {

// kPermissionDenied when `identity` is on the deny list; `role` says where it
// appeared ("subject", "actor").
Status CheckNotDenied(const DenyList& deny, std::string_view identity, std::string_view role);

// The TTL to use: the request's, or the granted maximum when it is 0.
StatusOr<Seconds> ResolveTtl(const Policy& policy, std::string_view caller, Operation op,
                             Seconds requested);

// A SPIFFE ID that must belong to `trust_domain` (when that is not empty).
Status CheckSpiffeSubject(std::string_view id, std::string_view trust_domain,
                          std::string_view role);

// `done`, preceded by `hook(result.audit)` for every successful result.
template <typename T>
MintCallback<T> ReportIssued(const std::function<void(const AuditFields&)>& hook,
                             MintCallback<T> done) {
  if (!hook) {
    return done;
  }
  return [hook, done = std::move(done)](StatusOr<T> result) {
    if (result.ok()) {
      hook(result->audit);
    }
    done(std::move(result));
  };
}

// Runs an asynchronous Mint* call and waits for its result.
template <typename T, typename Start>
StatusOr<T> Wait(Start start) {
  std::promise<StatusOr<T>> promise;
  std::future<StatusOr<T>> future = promise.get_future();
  start([&promise](StatusOr<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

}  // namespace minter_internal
}  // namespace signet
