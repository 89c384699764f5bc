// Caller policy: what each caller may ask signet to mint. Deny by default.
//
// A caller is the SPIFFE ID from its mTLS client certificate. A Grant gives one
// caller a set of operations and, for each, the subjects, actors, audiences,
// longest TTL and raw-signing keys it may use. Anything a grant does not name
// is refused with kPermissionDenied, and the message names the rule that
// refused it ("caller spiffe://x/y: audience 'z' is not granted").
//
// Policy is read from TOML:
//
//   [[caller]]
//   id = "spiffe://example.org/idp"           # exact SPIFFE ID of the caller
//   operations = ["jwt_svid", "access_token", "x509_svid", "raw_sign"]  # or ["admin"]
//   subjects = ["spiffe://example.org/agent/*"]  # SPIFFE ID patterns
//   principals = ["user:*"]                      # access-token subjects that are not SPIFFE IDs
//   actors = ["spiffe://example.org/agent/*", "spiffe://example.org/app/support"]
//   audiences = ["https://api.example.org"]
//   require_act = true                           # access tokens must carry an act chain
//   max_act_depth = 2                            # default 0: no act chain allowed
//   raw_keys = ["release-signing"]
//   expires_at = 2027-01-01T00:00:00Z            # optional; the grant ends then
//   [caller.max_ttl]                             # seconds, per operation; required per operation
//   jwt_svid = 300
//   access_token = 600
//   x509_svid = 3600
//
// A custodian's grant is `operations = ["admin"]`: the key, deny-list and CA commands
// that signetd serves to signetctl. It needs no max_ttl, subjects or audiences.
//
// Patterns: an exact value, "*" for anything, or a prefix ending in "/*" that
// matches only at a segment boundary ("spiffe://example.org/agent/*" matches
// ".../agent/a" and ".../agent/a/b" but not ".../agents" or ".../agent"). For
// principals, "user:*" matches any value starting with "user:".
//
// Policy is immutable after loading; swap a new one in to change it.
// Thread safety: const methods may be called from any thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "signer/clock.h"
#include "signer/status.h"

namespace signet {

// kAdmin: the custodian commands (keys, deny list, CA ceremony, status) signetd serves.
enum class Operation { kJwtSvid, kAccessToken, kX509Svid, kRawSign, kAdmin };

// "jwt_svid", "access_token", "x509_svid", "raw_sign", "admin".
std::string_view OperationName(Operation op);
StatusOr<Operation> ParseOperation(std::string_view name);

// True when `value` matches `pattern` under the rules above.
bool MatchesPattern(std::string_view pattern, std::string_view value);

struct Grant {
  std::string caller;  // exact SPIFFE ID
  std::set<Operation> operations;
  std::vector<std::string> subjects;    // SPIFFE ID patterns
  std::vector<std::string> principals;  // access-token subject patterns that are not SPIFFE IDs
  std::vector<std::string> actors;      // patterns for every entry of an act chain
  std::vector<std::string> audiences;   // patterns
  std::map<Operation, Seconds> max_ttl;
  bool require_act = false;
  size_t max_act_depth = 0;
  std::set<std::string, std::less<>> raw_keys;
  std::optional<TimePoint> expires_at;
};

// What a request asks for, as the policy sees it.
struct AuthorizationRequest {
  Operation operation = Operation::kJwtSvid;
  std::string subject;  // SPIFFE ID or principal; empty for raw_sign
  std::vector<std::string> audiences;
  std::vector<std::string> actors;  // current actor first
  Seconds ttl{0};
  std::string raw_key;  // raw_sign only
};

class Policy {
 public:
  Policy() = default;  // grants nothing
  explicit Policy(std::vector<Grant> grants);

  // Reads TOML. Errors name the file (`source`), the key and what is wrong:
  // "policy.toml: caller[1].max_ttl.jwt_svid: must be a positive integer".
  static StatusOr<Policy> FromToml(std::string_view text, std::string_view source);
  static StatusOr<Policy> FromTomlFile(const std::string& path);

  // The grant for a caller, or nullptr.
  const Grant* FindGrant(std::string_view caller) const;

  // OK when the caller's grant allows everything in `request` at time `now`;
  // kPermissionDenied naming the rule otherwise. A request TTL of 0 is checked as
  // the granted maximum. Does not consult the deny list (the Minter does).
  Status Authorize(std::string_view caller, const AuthorizationRequest& request,
                   TimePoint now) const;

  // The longest TTL the caller may ask for this operation; kPermissionDenied if none.
  StatusOr<Seconds> MaxTtl(std::string_view caller, Operation op) const;

  const std::vector<Grant>& grants() const { return grants_; }

 private:
  std::vector<Grant> grants_;
};

}  // namespace signet
