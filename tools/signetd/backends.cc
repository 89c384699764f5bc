#include "tools/signetd/backends.h"

#include "backends/pkcs11/pkcs11_backend.h"
#include "backends/slow_test/slow_test_backend.h"
#include "backends/software/software_backend.h"
#include "backends/tpm/tpm_backend.h"
#include "tools/signetd/log.h"

namespace signet {
namespace {

StatusOr<std::unique_ptr<Backend>> OpenSoftware(const BackendConfig& config) {
  SoftwareBackend::Options options;
  options.key_dir = config.key_dir;
  options.workers = static_cast<size_t>(config.workers);  // 0: on the network thread
  return std::unique_ptr<Backend>(std::make_unique<SoftwareBackend>(options));
}

StatusOr<std::unique_ptr<Backend>> OpenPkcs11(const BackendConfig& config, CheckRate check_rate) {
  Pkcs11Backend::Options options;
  options.check_rate = check_rate;
  options.module_path = config.module;
  options.token_label = config.token;
  options.pin = config.pin;
  if (config.sessions > 0) {
    options.workers = static_cast<size_t>(config.sessions);
  }
  SIGNET_ASSIGN_OR_RETURN(auto backend, Pkcs11Backend::Create(std::move(options)));
  return std::unique_ptr<Backend>(std::move(backend));
}

StatusOr<std::unique_ptr<Backend>> OpenTpm(const BackendConfig& config, CheckRate check_rate) {
  TpmBackend::Options options;
  options.check_rate = check_rate;
  options.tcti = config.tcti;
  options.key_dir = config.key_dir;
  options.key_auth = config.auth;
  if (config.owner_auth) {
    options.owner_auth = *config.owner_auth;
  }
  options.session =
      config.password_session ? TpmBackend::Session::kPassword : TpmBackend::Session::kHmac;
  SIGNET_ASSIGN_OR_RETURN(auto backend, TpmBackend::Open(std::move(options)));
  return std::unique_ptr<Backend>(std::move(backend));
}

// A simulated slow network HSM for benchmarks (docs/benchmarks.md); never for production.
StatusOr<std::unique_ptr<Backend>> OpenSlowTest(const BackendConfig& config) {
  SlowTestBackend::Options options;
  options.latency = std::chrono::microseconds(config.latency_us);
  options.sessions = static_cast<size_t>(config.sessions);
  if (config.workers > 0) {
    options.workers = static_cast<size_t>(config.workers);
  }
  return std::unique_ptr<Backend>(std::make_unique<SlowTestBackend>(options));
}

}  // namespace

StatusOr<std::unique_ptr<Backend>> OpenBackend(const BackendConfig& config, CheckRate check_rate) {
  StatusOr<std::unique_ptr<Backend>> backend = Status(Code::kInternal, "unreachable");
  switch (config.type) {
    case BackendType::kSoftware:
      backend = OpenSoftware(config);
      break;
    case BackendType::kPkcs11:
      backend = OpenPkcs11(config, check_rate);
      break;
    case BackendType::kTpm:
      backend = OpenTpm(config, check_rate);
      break;
    case BackendType::kSlowTest:
      backend = OpenSlowTest(config);
      break;
  }
  if (!backend.ok()) {
    return backend.status().WithContext("backend '" + config.name + "' (" +
                                        std::string(BackendTypeName(config.type)) + "): ");
  }
  return backend;
}

StatusOr<std::unique_ptr<KeyRing>> KeyRing::Open(const DaemonConfig& config) {
  namespace logf = signet::logf;
  std::unique_ptr<KeyRing> set(new KeyRing());

  for (const BackendConfig& backend_config : config.backends) {
    StatusOr<std::unique_ptr<Backend>> backend = OpenBackend(backend_config, config.check_rate);
    if (!backend.ok()) {
      logf::LogEvent(logf::Level::kError, logf::kBackendError,
                     {{logf::kBackend, backend_config.name},
                      {logf::kCode, std::string(CodeName(backend.status().code()))},
                      {logf::kError, backend.status().message()}});
      return backend.status();
    }
    logf::LogEvent(logf::Level::kInfo, logf::kBackendReady,
                   {{logf::kBackend, backend_config.name},
                    {logf::kBackendType, std::string(BackendTypeName(backend_config.type))}});
    set->backends_[backend_config.name] = std::move(backend).value();
  }

  for (const KeyConfig& key_config : config.keys) {
    Backend& backend = *set->backends_.at(key_config.backend);
    StatusOr<std::shared_ptr<SigningKey>> key = backend.LoadKey(key_config.ref);
    if (!key.ok()) {
      Status status = key.status().WithContext("loading key '" + key_config.id + "' from " +
                                               "backend '" + key_config.backend + "': ");
      logf::LogEvent(logf::Level::kError, logf::kBackendError,
                     {{logf::kBackend, key_config.backend},
                      {logf::kKeyId, key_config.id},
                      {logf::kCode, std::string(CodeName(status.code()))},
                      {logf::kError, status.message()}});
      return status;
    }
    logf::LogEvent(logf::Level::kInfo, logf::kKeyLoaded,
                   {{logf::kKeyId, key_config.id},
                    {logf::kBackend, key_config.backend},
                    {logf::kPurpose, std::string(PurposeName(key_config.purpose))},
                    {logf::kAlgorithm, std::string(AlgorithmName((*key)->algorithm()))}});
    set->keys_[key_config.id] =
        LoadedKey{&key_config, std::move(key).value(), backend.capabilities().verifies_signatures};
  }
  return set;
}

KeyRing::~KeyRing() {
  keys_.clear();
  backends_.clear();
}

const LoadedKey* KeyRing::Find(const std::string& kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace signet
