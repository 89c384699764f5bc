// Helpers shared by the TPM backend tests: secrets in 0600 files, backend
// options for a swtpm, and checks made with tools other than the code under test.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "tests/support/openssl_cli.h"
#include "tests/support/swtpm_process.h"

namespace signet::testing {

// Writes `value` to a new file in `dir` with mode 0600, as ReadSecret demands.
std::string WriteSecretFile(const TempDir& dir, const std::string& name, const std::string& value);

// Options for a backend on `tpm` with key files in `dir` and one authorization file.
TpmBackend::Options OptionsFor(const SwtpmProcess& tpm, const TempDir& dir,
                               const std::string& auth_file);

// Opens a backend; a failure fails the test.
std::unique_ptr<TpmBackend> OpenBackend(const TpmBackend::Options& options);

KeySpec Spec(Algorithm alg, const std::string& label);
SignRequest MessageRequest(const std::string& message);

// Signs `message` and checks the signature with the openssl command line.
void ExpectSignsVerifiably(SigningKey& key, const std::string& message);

// TPM2_PT_LOCKOUT_COUNTER as tpm2_getcap reads it (no backend may be connected).
uint32_t LockoutCounter(const SwtpmProcess& tpm);

std::string ReadFile(const std::string& path);

// Signs without waiting forever: a request that has not completed in `limit` hung.
StatusOr<Bytes> SignWithin(SigningKey& key, SignRequest request, std::chrono::seconds limit);

}  // namespace signet::testing
