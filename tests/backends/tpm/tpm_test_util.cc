#include "tests/backends/tpm/tpm_test_util.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <future>
#include <iterator>
#include <regex>

namespace signet::testing {

std::string WriteSecretFile(const TempDir& dir, const std::string& name, const std::string& value) {
  std::string path = dir.Write(name, value);
  ::chmod(path.c_str(), 0600);
  return path;
}

TpmBackend::Options OptionsFor(const SwtpmProcess& tpm, const TempDir& dir,
                               const std::string& auth_file) {
  TpmBackend::Options options;
  options.tcti = tpm.tcti();
  options.key_dir = dir.path();
  options.key_auth.file = auth_file;
  return options;
}

std::unique_ptr<TpmBackend> OpenBackend(const TpmBackend::Options& options) {
  auto backend = TpmBackend::Open(options);
  INFO(backend.status().ToString());
  REQUIRE(backend.ok());
  return std::move(backend).value();
}

KeySpec Spec(Algorithm alg, const std::string& label) {
  KeySpec spec;
  spec.algorithm = alg;
  spec.label = label;
  spec.purpose = Purpose::kX509Ca;
  return spec;
}

SignRequest MessageRequest(const std::string& message) {
  return SignRequest{Bytes(message.begin(), message.end()), false, SignatureFormat::kDer};
}

void ExpectSignsVerifiably(SigningKey& key, const std::string& message) {
  auto sig = key.SignAndWait(MessageRequest(message));
  INFO(sig.status().ToString());
  REQUIRE(sig.ok());
  CHECK(OpensslVerifies(key.public_key().spki_der, key.algorithm(), message, *sig));
}

uint32_t LockoutCounter(const SwtpmProcess& tpm) {
  std::string text = RunTpm2Tool(tpm, "tpm2_getcap properties-variable");
  std::smatch match;
  REQUIRE(std::regex_search(text, match, std::regex("TPM2_PT_LOCKOUT_COUNTER: (0x[0-9a-fA-F]+)")));
  return static_cast<uint32_t>(std::stoul(match[1].str(), nullptr, 16));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

StatusOr<Bytes> SignWithin(SigningKey& key, SignRequest request, std::chrono::seconds limit) {
  auto promise = std::make_shared<std::promise<StatusOr<Bytes>>>();
  auto result = promise->get_future();
  key.Sign(std::move(request), [promise](StatusOr<Bytes> sig) { promise->set_value(sig); });
  if (result.wait_for(limit) != std::future_status::ready) {
    FAIL("a TPM signature request did not complete within " << limit.count() << " s");
  }
  return result.get();
}

}  // namespace signet::testing
