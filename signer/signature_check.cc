#include "signer/signature_check.h"

#include <random>
#include <string>

namespace signet {
namespace {

// One generator per thread, seeded from the kernel: which signatures are checked is
// not predictable from outside, and drawing costs no lock.
uint64_t Draw() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    return (uint64_t{device()} << 32) | device();
  }()};
  return generator();
}

}  // namespace

SignatureCheck::SignatureCheck(SignatureVerifier verifier, CheckRate rate)
    : verifier_(std::move(verifier)), rate_(rate) {
  if (rate_.ecdsa_one_in == 0) {
    rate_.ecdsa_one_in = 1;
  }
}

bool SignatureCheck::ShouldVerify() const {
  uint64_t n = seen_.fetch_add(1, std::memory_order_relaxed);
  if (FamilyOf(verifier_.algorithm()) != KeyFamily::kEc || rate_.ecdsa_one_in == 1) {
    return true;
  }
  if (n == 0 || n < strict_until_.load(std::memory_order_relaxed)) {
    return true;
  }
  return Draw() % rate_.ecdsa_one_in == 0;
}

Status SignatureCheck::Check(const SignRequest& request, ByteView signature) const {
  if (!ShouldVerify()) {
    Algorithm alg = verifier_.algorithm();
    if (request.format == SignatureFormat::kRaw && signature.size() != 2 * EcCoordinateSize(alg)) {
      return Status(Code::kDeviceError, "ECDSA signature has " + std::to_string(signature.size()) +
                                            " bytes, expected " +
                                            std::to_string(2 * EcCoordinateSize(alg)));
    }
    return OkStatus();
  }

  verified_.fetch_add(1, std::memory_order_relaxed);
  Status status = verifier_.Verify(request, signature);
  if (!status.ok()) {
    strict_until_.store(seen_.load(std::memory_order_relaxed) + kStrictAfterFailure,
                        std::memory_order_relaxed);
  }
  return status;
}

}  // namespace signet
