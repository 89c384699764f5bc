#include "backends/tpm/tpm_key_ref.h"

#include <charconv>
#include <cstdio>

namespace signet::tpm {
namespace {

constexpr std::string_view kScheme = "tpm:";
constexpr uint32_t kPersistentFirst = 0x81000000;
constexpr uint32_t kPersistentLast = 0x81ffffff;

StatusOr<uint32_t> ParseHandle(std::string_view text, std::string_view ref) {
  uint32_t value = 0;
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      value < kPersistentFirst || value > kPersistentLast) {
    return Status(Code::kInvalidArgument, "TPM key reference '" + std::string(ref) +
                                              "' has handle '" + std::string(text) +
                                              "'; expected a persistent handle 0x81xxxxxx");
  }
  return value;
}

}  // namespace

std::string HandleHex(uint32_t handle) {
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%08x", handle);
  return hex;
}

StatusOr<KeyRef> ParseKeyRef(std::string_view text) {
  if (!text.starts_with(kScheme)) {
    return Status(Code::kInvalidArgument,
                  "TPM key reference must start with 'tpm:', got '" + std::string(text) + "'");
  }
  KeyRef ref;
  std::string alg;
  std::string_view rest = text.substr(kScheme.size());
  while (!rest.empty()) {
    size_t end = rest.find(';');
    std::string_view attr = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (attr.starts_with("label=")) {
      ref.label = attr.substr(6);
    } else if (attr.starts_with("alg=")) {
      alg = attr.substr(4);
    } else if (attr.starts_with("blob=")) {
      ref.blob_path = attr.substr(5);
    } else if (attr.starts_with("handle=")) {
      SIGNET_ASSIGN_OR_RETURN(ref.handle, ParseHandle(attr.substr(7), text));
    } else {
      return Status(Code::kInvalidArgument, "TPM key reference '" + std::string(text) +
                                                "' has an unknown attribute '" + std::string(attr) +
                                                "'");
    }
  }
  if (ref.label.empty() || alg.empty() || ref.blob_path.empty() == !ref.handle.has_value()) {
    return Status(Code::kInvalidArgument, "TPM key reference '" + std::string(text) +
                                              "' needs label=, alg= and one of blob= or handle=");
  }
  SIGNET_ASSIGN_OR_RETURN(ref.algorithm, ParseAlgorithm(alg));
  return ref;
}

std::string FormatKeyRef(const KeyRef& ref) {
  std::string out = std::string(kScheme) + "label=" + ref.label + ";";
  if (ref.handle) {
    out += "handle=" + HandleHex(*ref.handle);
  } else {
    out += "blob=" + ref.blob_path;
  }
  return out + ";alg=" + std::string(AlgorithmName(ref.algorithm));
}

}  // namespace signet::tpm
