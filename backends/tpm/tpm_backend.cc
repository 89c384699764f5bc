#include "backends/tpm/tpm_backend.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>
#include <optional>

#include "backends/tpm/tpm_device.h"
#include "backends/tpm/tpm_key_ref.h"
#include "backends/tpm/tpm_keys.h"
#include "signer/atomic_file.h"
#include "signer/batch_executor.h"
#include "signer/signature_check.h"

namespace signet {
namespace {

// A key this process has generated or loaded. The descriptor is fixed once the
// key is handed out and read only on the TPM worker.
struct KeyState {
  tpm::KeyDescriptor desc;
  std::string ref;
  std::optional<SignatureCheck> check;  // the public key, parsed once
  std::atomic<bool> destroyed{false};
  std::atomic<bool> auth_rejected{false};
};

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

tpm::DeviceOptions DeviceOptionsFrom(const TpmBackend::Options& options, Secret owner_auth) {
  tpm::DeviceOptions out;
  out.tcti = options.tcti;
  out.session = options.session == TpmBackend::Session::kHmac ? tpm::SessionMode::kHmac
                                                              : tpm::SessionMode::kPassword;
  out.owner_auth = std::move(owner_auth);
  out.max_loaded_keys = options.max_loaded_keys;
  return out;
}

}  // namespace

struct TpmBackend::Impl {
  Impl(Options opts, Secret owner_auth)
      : options(std::move(opts)),
        device(DeviceOptionsFrom(options, std::move(owner_auth))),
        executor(1, options.max_batch) {}

  // Runs `work` on the TPM worker and waits for its result.
  template <typename T>
  T RunOnWorker(std::function<T()> work) {
    std::promise<T> promise;
    std::future<T> result = promise.get_future();
    executor.Post([&](size_t) { promise.set_value(work()); });
    return result.get();
  }

  StatusOr<Bytes> SignNow(KeyState& state, const SignRequest& request);
  StatusOr<Secret> AuthFor(const std::string& label) const;
  bool LabelTaken(const std::string& label);
  std::string BlobPath(const std::string& label) const;
  std::string RecordPath(const std::string& label) const;
  StatusOr<std::shared_ptr<SigningKey>> Publish(std::shared_ptr<KeyState> state);

  const Options options;
  std::mutex mu;                                               // guards `states`
  std::multimap<std::string, std::weak_ptr<KeyState>> states;  // by label
  std::mutex generate_mu;  // one GenerateKey at a time, so a label is claimed once
  std::atomic<uint64_t> next_id{1};
  tpm::TpmDevice device;   // used only on the executor's worker
  BatchExecutor executor;  // last: destroyed first, finishing queued signatures
};

namespace {

class TpmSigningKey : public SigningKey {
 public:
  TpmSigningKey(std::shared_ptr<KeyState> state, PublicKey public_key, TpmBackend::Impl* impl)
      : SigningKey(state->ref, state->desc.algorithm, std::move(public_key)),
        state_(std::move(state)),
        impl_(impl) {}

  void Sign(SignRequest request, SignCallback done) override {
    Status valid = CheckSignRequest(algorithm(), request);
    if (!valid.ok()) {
      impl_->executor.Post([valid, done = std::move(done)](size_t) { done(valid); });
      return;
    }
    // The task holds the key's state itself: the SigningKey may be released before
    // its queued signatures run.
    impl_->executor.Post(
        [impl = impl_, state = state_, request = std::move(request),
         done = std::move(done)](size_t) { done(impl->SignNow(*state, request)); });
  }

 private:
  std::shared_ptr<KeyState> state_;
  TpmBackend::Impl* impl_;
};

}  // namespace

StatusOr<Bytes> TpmBackend::Impl::SignNow(KeyState& state, const SignRequest& request) {
  const tpm::KeyDescriptor& key = state.desc;
  std::string what = "TPM key '" + key.label + "': ";
  if (state.destroyed.load()) {
    return Status(Code::kNotFound, what + "the key was destroyed");
  }
  if (state.auth_rejected.load()) {
    return Status(Code::kWrongPin, what +
                                       "the TPM rejected its authorization value earlier; not "
                                       "tried again (dictionary-attack lockout) until the key is "
                                       "loaded again");
  }

  SIGNET_ASSIGN_OR_RETURN(Bytes digest, DigestToSign(key.algorithm, request));
  StatusOr<TPMT_SIGNATURE> signature = device.Sign(key, digest);
  if (!signature.ok()) {
    if (signature.status().code() == Code::kWrongPin) {
      state.auth_rejected.store(true);
    }
    return signature.status().WithContext(what);
  }
  SIGNET_ASSIGN_OR_RETURN(Bytes raw, tpm::SignatureBytes(*signature, key.algorithm));
  SIGNET_ASSIGN_OR_RETURN(Bytes out, FormatFromRaw(key.algorithm, request.format, std::move(raw)));
  SIGNET_RETURN_IF_ERROR(state.check->Check(request, out));
  return out;
}

StatusOr<Secret> TpmBackend::Impl::AuthFor(const std::string& label) const {
  auto it = options.key_auth_by_label.find(label);
  const SecretSource& source =
      it != options.key_auth_by_label.end() ? it->second : options.key_auth;
  StatusOr<Secret> secret = ReadSecret(source);
  if (!secret.ok()) {
    return secret.status().WithContext("authorization value for TPM key '" + label + "': ");
  }
  return secret;
}

std::string TpmBackend::Impl::BlobPath(const std::string& label) const {
  return options.key_dir + "/" + label + ".tpmkey";
}

std::string TpmBackend::Impl::RecordPath(const std::string& label) const {
  return options.key_dir + "/" + label + ".tpmhandle";
}

bool TpmBackend::Impl::LabelTaken(const std::string& label) {
  {
    std::lock_guard<std::mutex> lock(mu);
    auto [begin, end] = states.equal_range(label);
    for (auto it = begin; it != end; ++it) {
      std::shared_ptr<KeyState> state = it->second.lock();
      if (state && !state->destroyed.load()) {
        return true;
      }
    }
  }
  return !options.key_dir.empty() && (FileExists(BlobPath(label)) || FileExists(RecordPath(label)));
}

StatusOr<std::shared_ptr<SigningKey>> TpmBackend::Impl::Publish(std::shared_ptr<KeyState> state) {
  SIGNET_ASSIGN_OR_RETURN(Bytes spki, tpm::SpkiFromPublic(state->desc.blobs.pub.publicArea));
  SIGNET_ASSIGN_OR_RETURN(SignatureVerifier verifier,
                          SignatureVerifier::Create(PublicKey{spki}, state->desc.algorithm));
  state->check.emplace(std::move(verifier), options.check_rate);
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = states.begin(); it != states.end();) {
      it = it->second.expired() ? states.erase(it) : std::next(it);
    }
    states.emplace(state->desc.label, state);
  }
  return std::shared_ptr<SigningKey>(
      std::make_shared<TpmSigningKey>(std::move(state), PublicKey{std::move(spki)}, this));
}

TpmBackend::TpmBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TpmBackend::~TpmBackend() = default;

StatusOr<std::unique_ptr<TpmBackend>> TpmBackend::Open(Options options) {
  if (options.storage == Storage::kBlobFile && options.key_dir.empty()) {
    return Status(Code::kInvalidArgument, "TPM backend: key files need a key_dir");
  }
  Secret owner_auth;
  if (!options.owner_auth.env_var.empty() || !options.owner_auth.file.empty()) {
    StatusOr<Secret> secret = ReadSecret(options.owner_auth);
    if (!secret.ok()) {
      return secret.status().WithContext("TPM owner hierarchy authorization: ");
    }
    owner_auth = std::move(secret).value();
  }

  auto impl = std::make_unique<Impl>(std::move(options), std::move(owner_auth));
  Impl* raw = impl.get();
  Status connected = raw->RunOnWorker<Status>([raw] { return raw->device.Connect(); });
  if (!connected.ok()) {
    return connected.WithContext("opening the TPM at '" + raw->options.tcti + "': ");
  }
  return std::unique_ptr<TpmBackend>(new TpmBackend(std::move(impl)));
}

size_t TpmBackend::queue_depth() const {
  return impl_->executor.queue_depth();
}

Capabilities TpmBackend::capabilities() const {
  Capabilities caps;
  // No EdDSA: TPM 2.0 defines no Ed25519 keys.
  caps.algorithms = {Algorithm::kES256, Algorithm::kES384, Algorithm::kPS256, Algorithm::kRS256};
  caps.max_parallel_signatures = 1;
  caps.hardware = true;
  caps.verifies_signatures = true;
  return caps;
}

StatusOr<std::shared_ptr<SigningKey>> TpmBackend::GenerateKey(const KeySpec& spec) {
  SIGNET_RETURN_IF_ERROR(ValidateKeySpec(spec));
  SIGNET_ASSIGN_OR_RETURN(TPM2B_PUBLIC key_template,
                          tpm::SigningKeyTemplate(spec.algorithm, spec.rsa_bits));
  SIGNET_ASSIGN_OR_RETURN(Secret auth, impl_->AuthFor(spec.label));

  std::lock_guard<std::mutex> generating(impl_->generate_mu);
  if (impl_->LabelTaken(spec.label)) {
    return Status(Code::kAlreadyExists, "TPM key '" + spec.label + "' already exists");
  }

  auto state = std::make_shared<KeyState>();
  tpm::KeyDescriptor& desc = state->desc;
  desc.id = impl_->next_id++;
  desc.label = spec.label;
  desc.algorithm = spec.algorithm;
  desc.auth = std::move(auth);
  const bool persistent = impl_->options.storage == Storage::kPersistentHandle;
  std::string what = std::string(AlgorithmName(spec.algorithm)) + " key '" + spec.label + "'";
  Impl* impl = impl_.get();
  Status created = impl->RunOnWorker<Status>([&]() -> Status {
    SIGNET_RETURN_IF_ERROR(impl->device.CheckSupported(key_template, "an " + what));
    SIGNET_ASSIGN_OR_RETURN(desc.blobs, impl->device.CreateKey(key_template, desc.auth));
    if (persistent) {
      SIGNET_ASSIGN_OR_RETURN(
          desc.persistent_handle,
          impl->device.Persist(desc.blobs, impl->options.first_persistent_handle));
    }
    return OkStatus();
  });
  if (!created.ok()) {
    return created.WithContext("generating TPM " + what + ": ");
  }

  tpm::KeyRef ref{spec.label, spec.algorithm, desc.persistent_handle, ""};
  Status stored;
  if (persistent) {
    desc.blobs.priv = TPM2B_PRIVATE{};  // the key lives in the TPM; the blob is not needed
    if (!impl->options.key_dir.empty()) {
      std::string record = tpm::HandleHex(*desc.persistent_handle) + "\n";
      stored = WriteFileAtomically(impl->RecordPath(spec.label), record);
    }
  } else {
    ref.blob_path = impl->BlobPath(spec.label);
    StatusOr<Bytes> file = tpm::MarshalKeyFile(desc.blobs);
    stored = file.ok() ? WriteFileAtomically(ref.blob_path, AsText(*file)) : file.status();
  }
  if (!stored.ok()) {
    if (persistent) {
      TPM2_HANDLE handle = *desc.persistent_handle;
      (void)impl->RunOnWorker<Status>([&] { return impl->device.EvictPersistent(handle); });
    }
    return stored.WithContext("storing TPM " + what + ": ");
  }
  state->ref = tpm::FormatKeyRef(ref);
  return impl->Publish(std::move(state));
}

StatusOr<std::shared_ptr<SigningKey>> TpmBackend::LoadKey(std::string_view text) {
  SIGNET_ASSIGN_OR_RETURN(tpm::KeyRef ref, tpm::ParseKeyRef(text));
  if (ref.algorithm == Algorithm::kEdDSA) {
    return Status(Code::kUnsupported, "TPM key reference '" + std::string(text) +
                                          "' names EdDSA; TPM 2.0 has no "
                                          "Ed25519 keys");
  }
  SIGNET_ASSIGN_OR_RETURN(Secret auth, impl_->AuthFor(ref.label));

  auto state = std::make_shared<KeyState>();
  tpm::KeyDescriptor& desc = state->desc;
  desc.id = impl_->next_id++;
  desc.label = ref.label;
  desc.algorithm = ref.algorithm;
  desc.auth = std::move(auth);
  desc.persistent_handle = ref.handle;
  state->ref = tpm::FormatKeyRef(ref);
  std::string what = "TPM key '" + ref.label + "'";
  Impl* impl = impl_.get();

  if (ref.handle) {
    uint32_t handle = *ref.handle;
    StatusOr<TPM2B_PUBLIC> pub = impl->RunOnWorker<StatusOr<TPM2B_PUBLIC>>(
        [&] { return impl->device.ReadPersistentPublic(handle); });
    if (!pub.ok()) {
      return pub.status().WithContext("loading " + what + " at " + tpm::HandleHex(handle) + ": ");
    }
    desc.blobs.pub = *pub;
  } else {
    SIGNET_ASSIGN_OR_RETURN(Bytes file, tpm::ReadWholeFile(ref.blob_path));
    SIGNET_ASSIGN_OR_RETURN(desc.blobs, tpm::UnmarshalKeyFile(file, ref.blob_path));
  }
  SIGNET_RETURN_IF_ERROR(tpm::CheckSigningKey(desc.blobs.pub.publicArea, ref.algorithm, what));

  // Load it now, so that a blob from another TPM or a damaged file fails here.
  Status loaded = impl->RunOnWorker<Status>([&] { return impl->device.Prepare(desc); });
  if (!loaded.ok()) {
    return loaded.WithContext("loading " + what + ": ");
  }
  return impl->Publish(std::move(state));
}

Status TpmBackend::DestroyKey(std::string_view text) {
  SIGNET_ASSIGN_OR_RETURN(tpm::KeyRef ref, tpm::ParseKeyRef(text));

  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto [begin, end] = impl_->states.equal_range(ref.label);
    for (auto it = begin; it != end; ++it) {
      if (std::shared_ptr<KeyState> state = it->second.lock()) {
        state->destroyed.store(true);
        ids.push_back(state->desc.id);
      }
    }
    impl_->states.erase(ref.label);
  }

  Impl* impl = impl_.get();
  Status evicted = impl->RunOnWorker<Status>([&]() -> Status {
    for (uint64_t id : ids) {
      impl->device.Unload(id);
    }
    if (ref.handle) {
      return impl->device.EvictPersistent(*ref.handle);
    }
    return OkStatus();
  });
  if (!impl->options.key_dir.empty()) {
    ::unlink(impl->RecordPath(ref.label).c_str());
  }
  if (ref.handle) {
    return evicted.WithContext("destroying TPM key '" + ref.label + "' at " +
                               tpm::HandleHex(*ref.handle) + ": ");
  }
  if (::unlink(ref.blob_path.c_str()) != 0) {
    return Status(Code::kNotFound, "no TPM key file " + ref.blob_path + " to destroy");
  }
  return OkStatus();
}

}  // namespace signet
