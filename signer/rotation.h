// The rotation rule: when the next key of a purpose is prepared and when it
// takes over.
//
// A key of lifetime L is planned to sign until its not_after. The next key is
// prepared (generated and published, signing nothing) once the active key has
// at most L/2 left, and activated once the active key has at most L/6 left; the
// old key is then retired and stays published until everything it signed has
// expired. This is the schedule SPIRE's server CA uses, and it gives every
// verifier that refreshes its JWKS or bundle at least L/3 to learn a key before
// the first credential signed with it appears.
//
// Thread safety: values and pure functions.
#pragma once

#include <optional>
#include <string>

#include "signer/algorithm.h"
#include "signer/clock.h"

namespace signet {

// How keys of one purpose are made and how long each is meant to sign.
struct RotationRule {
  Seconds lifetime{Seconds(24 * 3600)};  // L
  Algorithm algorithm = Algorithm::kES256;
  std::string backend;  // Backend::name() of the backend new keys are generated in
};

// The moments the rule acts on for an active key ending at `not_after`.
inline TimePoint PrepareThreshold(TimePoint not_after, Seconds lifetime) {
  return not_after - lifetime / 2;
}
inline TimePoint ActivateThreshold(TimePoint not_after, Seconds lifetime) {
  return not_after - lifetime / 6;
}

enum class RotationStep {
  kNone,      // nothing to do yet
  kPrepare,   // generate and publish the next key
  kActivate,  // make the prepared key the signing key (preparing one first if there is none)
};

// What the rule asks for now. `active_not_after` is empty when no key of the
// purpose is active (then the answer is kActivate: a purpose must have a signer).
RotationStep NextRotationStep(const RotationRule& rule, std::optional<TimePoint> active_not_after,
                              bool has_prepared, TimePoint now);

}  // namespace signet
