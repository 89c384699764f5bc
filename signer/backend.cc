#include "signer/backend.h"

#include <future>

namespace signet {

std::string_view PurposeName(Purpose purpose) {
  switch (purpose) {
    case Purpose::kJwt:
      return "jwt";
    case Purpose::kX509Ca:
      return "x509-ca";
    case Purpose::kRaw:
      return "raw";
    case Purpose::kAudit:
      return "audit";
  }
  return "unknown";
}

StatusOr<Purpose> ParsePurpose(std::string_view name) {
  for (Purpose p : {Purpose::kJwt, Purpose::kX509Ca, Purpose::kRaw, Purpose::kAudit}) {
    if (PurposeName(p) == name) {
      return p;
    }
  }
  return Status(Code::kInvalidArgument, "unknown key purpose '" + std::string(name) +
                                            "' (expected jwt, x509-ca, raw or audit)");
}

Status ValidateKeySpec(const KeySpec& spec) {
  if (spec.label.empty() || spec.label.size() > 64) {
    return Status(Code::kInvalidArgument,
                  "key label must be 1 to 64 characters, got " + std::to_string(spec.label.size()));
  }
  for (char c : spec.label) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status(Code::kInvalidArgument,
                    "key label '" + spec.label + "' has a character outside [A-Za-z0-9._-]");
    }
  }
  if (FamilyOf(spec.algorithm) == KeyFamily::kRsa && spec.rsa_bits != 2048 &&
      spec.rsa_bits != 3072) {
    return Status(Code::kInvalidArgument,
                  "RSA key size must be 2048 or 3072, got " + std::to_string(spec.rsa_bits));
  }
  return OkStatus();
}

StatusOr<Bytes> SigningKey::SignAndWait(SignRequest request) {
  std::promise<StatusOr<Bytes>> promise;
  std::future<StatusOr<Bytes>> result = promise.get_future();
  Sign(std::move(request), [&promise](StatusOr<Bytes> sig) { promise.set_value(std::move(sig)); });
  return result.get();
}

}  // namespace signet
