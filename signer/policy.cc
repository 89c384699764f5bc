#include "signer/policy.h"

#include <algorithm>

namespace signet {
namespace {

Status Denied(std::string_view caller, const std::string& rule) {
  return Status(Code::kPermissionDenied, "caller '" + std::string(caller) + "': " + rule);
}

bool AnyMatches(const std::vector<std::string>& patterns, std::string_view value) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return MatchesPattern(p, value); });
}

bool IsSpiffe(std::string_view value) {
  return value.substr(0, 9) == "spiffe://";
}

}  // namespace

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kJwtSvid:
      return "jwt_svid";
    case Operation::kAccessToken:
      return "access_token";
    case Operation::kX509Svid:
      return "x509_svid";
    case Operation::kRawSign:
      return "raw_sign";
    case Operation::kAdmin:
      return "admin";
  }
  return "unknown";
}

StatusOr<Operation> ParseOperation(std::string_view name) {
  for (Operation op : {Operation::kJwtSvid, Operation::kAccessToken, Operation::kX509Svid,
                       Operation::kRawSign, Operation::kAdmin}) {
    if (OperationName(op) == name) {
      return op;
    }
  }
  return Status(Code::kInvalidArgument,
                "unknown operation '" + std::string(name) +
                    "'; expected jwt_svid, access_token, x509_svid, raw_sign or admin");
}

bool MatchesPattern(std::string_view pattern, std::string_view value) {
  if (pattern == "*") {
    return true;
  }
  if (pattern.size() >= 2 && pattern.back() == '*' &&
      (pattern[pattern.size() - 2] == '/' || pattern[pattern.size() - 2] == ':')) {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return value.size() > prefix.size() && value.substr(0, prefix.size()) == prefix;
  }
  return pattern == value;
}

Policy::Policy(std::vector<Grant> grants) : grants_(std::move(grants)) {}

const Grant* Policy::FindGrant(std::string_view caller) const {
  for (const Grant& grant : grants_) {
    if (grant.caller == caller) {
      return &grant;
    }
  }
  return nullptr;
}

StatusOr<Seconds> Policy::MaxTtl(std::string_view caller, Operation op) const {
  const Grant* grant = FindGrant(caller);
  if (grant == nullptr) {
    return Denied(caller, "no grant for this caller");
  }
  if (grant->operations.count(op) == 0) {
    return Denied(caller, "operation '" + std::string(OperationName(op)) + "' is not granted");
  }
  auto it = grant->max_ttl.find(op);
  if (it == grant->max_ttl.end()) {
    return Denied(caller, "no max_ttl granted for " + std::string(OperationName(op)));
  }
  return it->second;
}

Status Policy::Authorize(std::string_view caller, const AuthorizationRequest& request,
                         TimePoint now) const {
  const Grant* grant = FindGrant(caller);
  if (grant == nullptr) {
    return Denied(caller, "no grant for this caller");
  }
  if (grant->expires_at && now >= *grant->expires_at) {
    return Denied(caller, "grant expired (expires_at)");
  }
  std::string op(OperationName(request.operation));
  if (grant->operations.count(request.operation) == 0) {
    return Denied(caller, "operation '" + op + "' is not granted");
  }
  if (request.operation == Operation::kAdmin) {
    return OkStatus();  // custodian commands: no subject, audience or TTL to check
  }

  if (request.operation == Operation::kRawSign) {
    if (grant->raw_keys.find(request.raw_key) == grant->raw_keys.end()) {
      return Denied(caller, "raw signing with key '" + request.raw_key + "' is not granted");
    }
    return OkStatus();
  }

  bool principal = request.operation == Operation::kAccessToken && !IsSpiffe(request.subject);
  if (principal ? !AnyMatches(grant->principals, request.subject)
                : !AnyMatches(grant->subjects, request.subject)) {
    return Denied(caller, std::string(principal ? "principal" : "subject") + " '" +
                              request.subject + "' is not granted (" +
                              (principal ? "principals" : "subjects") + ")");
  }

  if (request.operation != Operation::kX509Svid) {
    for (const std::string& aud : request.audiences) {
      if (!AnyMatches(grant->audiences, aud)) {
        return Denied(caller, "audience '" + aud + "' is not granted (audiences)");
      }
    }
  }

  if (request.operation == Operation::kAccessToken) {
    if (grant->require_act && request.actors.empty()) {
      return Denied(caller, "an act chain is required (require_act)");
    }
    if (request.actors.size() > grant->max_act_depth) {
      return Denied(caller, "act chain depth " + std::to_string(request.actors.size()) +
                                " exceeds max_act_depth " + std::to_string(grant->max_act_depth));
    }
    for (const std::string& actor : request.actors) {
      if (!AnyMatches(grant->actors, actor)) {
        return Denied(caller, "actor '" + actor + "' is not granted (actors)");
      }
    }
  }

  auto ttl = grant->max_ttl.find(request.operation);
  if (ttl == grant->max_ttl.end()) {
    return Denied(caller, "no max_ttl granted for " + op);
  }
  if (request.ttl > ttl->second) {
    return Denied(caller, "ttl " + std::to_string(request.ttl.count()) + "s exceeds max_ttl." + op +
                              " " + std::to_string(ttl->second.count()) + "s");
  }
  return OkStatus();
}

}  // namespace signet
