// The text form of a TPM key reference, the string the key catalogue stores and
// LoadKey accepts back:
//
//   tpm:label=jwt-1;blob=/var/lib/signet/tpm/jwt-1.tpmkey;alg=ES256
//   tpm:label=ca-1;handle=0x81000010;alg=PS256
//
// Exactly one of blob= and handle= is present; the handle is in the persistent
// range (0x81000000 to 0x81ffffff).
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "signer/algorithm.h"
#include "signer/status.h"

namespace signet::tpm {

struct KeyRef {
  std::string label;
  Algorithm algorithm = Algorithm::kES256;
  std::optional<uint32_t> handle;  // a persistent key
  std::string blob_path;           // a key file
};

StatusOr<KeyRef> ParseKeyRef(std::string_view text);
std::string FormatKeyRef(const KeyRef& ref);

// "0x81000010".
std::string HandleHex(uint32_t handle);

}  // namespace signet::tpm
