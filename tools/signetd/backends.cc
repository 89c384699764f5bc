#include "tools/signetd/backends.h"

#include "backends/software/software_backend.h"
#include "tools/signetd/log.h"

namespace signet {
namespace {

StatusOr<std::unique_ptr<Backend>> OpenSoftware(const BackendConfig& config) {
  SoftwareBackend::Options options;
  options.key_dir = config.key_dir;
  if (config.workers > 0) {
    options.workers = static_cast<size_t>(config.workers);
  }
  return std::unique_ptr<Backend>(std::make_unique<SoftwareBackend>(options));
}

StatusOr<std::unique_ptr<Backend>> OpenPkcs11(const BackendConfig& config) {
  SIGNET_ASSIGN_OR_RETURN(Secret pin, ReadSecret(config.pin));
  (void)pin;
  // Not yet: waits for backends/pkcs11 from the pkcs11 branch.
  return Status(Code::kUnsupported, "the pkcs11 backend is not built into this signetd yet");
}

StatusOr<std::unique_ptr<Backend>> OpenTpm(const BackendConfig& config) {
  (void)config;
  // Not yet: waits for backends/tpm from the tpm branch.
  return Status(Code::kUnsupported, "the tpm backend is not built into this signetd yet");
}

}  // namespace

StatusOr<std::unique_ptr<Backend>> OpenBackend(const BackendConfig& config) {
  StatusOr<std::unique_ptr<Backend>> backend = Status(Code::kInternal, "unreachable");
  switch (config.type) {
    case BackendType::kSoftware:
      backend = OpenSoftware(config);
      break;
    case BackendType::kPkcs11:
      backend = OpenPkcs11(config);
      break;
    case BackendType::kTpm:
      backend = OpenTpm(config);
      break;
  }
  if (!backend.ok()) {
    return backend.status().WithContext("backend '" + config.name + "' (" +
                                        std::string(BackendTypeName(config.type)) + "): ");
  }
  return backend;
}

StatusOr<std::unique_ptr<KeySet>> KeySet::Open(const DaemonConfig& config) {
  namespace logf = signet::logf;
  std::unique_ptr<KeySet> set(new KeySet());

  for (const BackendConfig& backend_config : config.backends) {
    StatusOr<std::unique_ptr<Backend>> backend = OpenBackend(backend_config);
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
    set->keys_[key_config.id] = LoadedKey{&key_config, std::move(key).value()};
  }
  return set;
}

KeySet::~KeySet() {
  keys_.clear();
  backends_.clear();
}

const LoadedKey* KeySet::Find(const std::string& kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace signet
