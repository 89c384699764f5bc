// SoftwareBackend: keys as OpenSSL EVP keys in process memory, optionally kept
// as PEM files in a key directory.
//
// For development, tests and short-lived in-memory keys only: the private key
// is in this process's memory, so a hardware purpose (root or intermediate CA)
// must refuse it unless the configuration says otherwise. Files are written
// with mode 0600 through a rename, so a crash leaves the old file or the new.
//
// Key references look like `software:label=jwt-1;alg=ES256`.
//
// Signatures run on `workers` threads, or with no workers on the thread that calls
// Sign(), which then runs `done` before it returns. A P-256 signature here is 25 µs of
// CPU; on a server whose cores are busy anyway, handing it to another thread only adds
// a queue, a wake-up and context switches (about a sixth more CPU per JWT, measured in
// docs/benchmarks.md). An RSA-4096 signature takes milliseconds: give such keys workers
// when the caller is a network thread.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "signer/backend.h"
#include "signer/batch_executor.h"

namespace signet {

class SoftwareBackend : public Backend {
 public:
  struct Options {
    std::string key_dir;  // empty: keys live in memory only and vanish with the process
    size_t workers = 1;   // signing threads; 0 signs on the thread that asks, inside Sign()
    size_t max_batch = 64;
  };

  explicit SoftwareBackend(Options options);
  ~SoftwareBackend() override;

  std::string_view name() const override { return "software"; }
  Capabilities capabilities() const override;
  size_t queue_depth() const override;
  StatusOr<std::shared_ptr<SigningKey>> GenerateKey(const KeySpec& spec) override;
  StatusOr<std::shared_ptr<SigningKey>> LoadKey(std::string_view ref) override;
  Status DestroyKey(std::string_view ref) override;

  struct KeyState;

 private:
  StatusOr<std::shared_ptr<SigningKey>> MakeKey(std::shared_ptr<KeyState> state);
  std::string PathFor(const std::string& label) const;

  const Options options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<KeyState>> keys_;  // by label
  // Null when signing on the calling thread. Last: destroyed first, finishing queued signatures.
  std::unique_ptr<BatchExecutor> executor_;
};

}  // namespace signet
