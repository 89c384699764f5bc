#include "signer/rotation.h"

namespace signet {

RotationStep NextRotationStep(const RotationRule& rule, std::optional<TimePoint> active_not_after,
                              bool has_prepared, TimePoint now) {
  if (!active_not_after) {
    return RotationStep::kActivate;
  }
  if (now >= ActivateThreshold(*active_not_after, rule.lifetime)) {
    return RotationStep::kActivate;
  }
  if (!has_prepared && now >= PrepareThreshold(*active_not_after, rule.lifetime)) {
    return RotationStep::kPrepare;
  }
  return RotationStep::kNone;
}

}  // namespace signet
