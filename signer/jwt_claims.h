// Claim shapes shared by signet's two JWT profiles: `aud`, the RFC 8693 `act`
// chain, and reading those back from a minted token.
//
// The `act` chain nests the current actor outermost and the first actor
// innermost; each level holds `sub`, optionally `iss`, and the next `act`,
// nothing else (RFC 8693 section 4.1: exp, aud and the like are meaningless there).
//
// Thread safety: free functions on values.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "signer/minter.h"
#include "signer/status.h"

namespace signet {

// One audience as a string, several as an array.
boost::json::value AudienceClaim(const std::vector<std::string>& audiences);

// The `act` claim for `actors` (current first). Precondition: not empty.
boost::json::object ActClaim(const std::vector<Actor>& actors);

// What a minted token's claims say, read back from its bytes.
struct ReadClaims {
  std::string sub;
  std::vector<std::string> audiences;
  std::vector<Actor> actors;  // current first
  int64_t iat = 0;
  int64_t exp = 0;
};

// kInternal when a claim is missing or ill-typed, or an `act` level holds
// anything but sub, iss and act.
StatusOr<ReadClaims> ReadBackClaims(const boost::json::object& claims);

}  // namespace signet
