// SlowTestBackend: a TEST backend that behaves like a slow network HSM, for measuring how
// well signetd pipelines. Never use it in production: its keys are software keys in process
// memory, generated on first load and gone when the process exits.
//
// Every signature is made with a real in-memory key (so tokens verify), then held back as a
// device would hold it: a fixed number of sessions, each busy for a fixed latency per
// signature. A request that finds every session busy waits for one. The delay costs no CPU:
// one timer thread releases finished signatures, so 32 sessions need no 32 threads.
//
// Key references look like `slow-test:label=jwt-1;alg=ES256`. LoadKey generates the key
// when the label is new (a test backend has no device to provision).
//
// Thread safety: all methods may be called from any thread. Destroying the backend
// delivers every held signature before it returns.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "signer/backend.h"

namespace signet {

class SoftwareBackend;

class SlowTestBackend : public Backend {
 public:
  struct Options {
    std::chrono::microseconds latency{2000};  // how long a session is busy per signature
    size_t sessions = 32;                     // signatures the simulated device runs at once
    size_t workers = 1;                       // threads computing the real signatures
  };

  explicit SlowTestBackend(Options options);
  ~SlowTestBackend() override;

  std::string_view name() const override { return "slow-test"; }
  Capabilities capabilities() const override;
  StatusOr<std::shared_ptr<SigningKey>> GenerateKey(const KeySpec& spec) override;
  StatusOr<std::shared_ptr<SigningKey>> LoadKey(std::string_view ref) override;
  Status DestroyKey(std::string_view ref) override;

  class Device;

 private:
  StatusOr<std::string> InnerRef(std::string_view ref) const;
  StatusOr<std::shared_ptr<SigningKey>> Wrap(StatusOr<std::shared_ptr<SigningKey>> inner);

  const Options options_;
  std::unique_ptr<SoftwareBackend> software_;
  std::shared_ptr<Device> device_;  // after software_: destroyed first, delivering held work
};

}  // namespace signet
