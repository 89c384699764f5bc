#include "backends/pkcs11/pkcs11_backend.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <vector>

#include "backends/pkcs11/ck_status.h"
#include "backends/pkcs11/keys.h"
#include "backends/pkcs11/module.h"
#include "backends/pkcs11/uri.h"
#include "signer/batch_executor.h"
#include "signer/signature_check.h"

namespace signet {

using pkcs11::Session;

namespace {

constexpr size_t kIdSize = 8;

// A key as the backend knows it. The object handle is cached; it dies with the
// sessions in some modules, and is then looked up again by CKA_ID.
struct KeyState {
  Bytes id;
  std::string label;
  Algorithm algorithm;
  PublicKey public_key;
  std::optional<SignatureCheck> check;  // the public key, parsed once
  std::atomic<CK_OBJECT_HANDLE> handle{CK_INVALID_HANDLE};
};

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t size) {
  return {type, const_cast<void*>(value), static_cast<CK_ULONG>(size)};
}

const CK_OBJECT_CLASS kPublicClass = CKO_PUBLIC_KEY;

// The raw CK_RV behind a status, when it came from the module.
CK_RV RvOf(const Status& status) {
  return static_cast<CK_RV>(status.raw_code().value_or(CKR_OK));
}

bool SessionIsGone(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED;
}

bool HandleIsStale(CK_RV rv) {
  return rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID;
}

}  // namespace

struct Pkcs11Backend::Impl {
  std::string token_label;
  std::string token_serial;
  Secret pin;
  std::shared_ptr<pkcs11::Module> module;
  CK_SLOT_ID slot = 0;
  std::vector<Algorithm> algorithms;
  CheckRate check_rate;
  std::atomic<uint64_t> reopened{0};

  // For generating, finding and destroying keys: one read-write session, one user at a time.
  std::mutex admin_mu;
  Session admin;

  // One signing session per executor worker; only that worker touches it.
  std::vector<Session> sessions;
  std::unique_ptr<BatchExecutor> executor;

  // Opens a session and logs in (a no-op when the token is already logged in).
  StatusOr<Session> OpenLoggedIn(bool read_write) {
    SIGNET_ASSIGN_OR_RETURN(Session session, Session::Open(module, slot, read_write));
    SIGNET_RETURN_IF_ERROR(session.Login(pin));
    return session;
  }

  // Drops a session the module lost and opens a new one in its place.
  Status Reopen(Session& session, CK_RV why, bool read_write) {
    if (SessionIsGone(why)) {
      session.Forget();
    } else {
      session = Session();
    }
    reopened++;
    SIGNET_ASSIGN_OR_RETURN(session, OpenLoggedIn(read_write));
    return OkStatus();
  }

  // Runs `op` on the admin session; recovers a lost session once. Never retries a
  // login failure: a wrong PIN must not be tried twice.
  template <typename Op>
  auto WithAdmin(Op op) -> decltype(op(admin)) {
    std::lock_guard<std::mutex> lock(admin_mu);
    if (!admin.valid()) {
      SIGNET_ASSIGN_OR_RETURN(admin, OpenLoggedIn(true));
    }
    auto result = op(admin);
    CK_RV rv = RvOf(result.status());
    if (result.ok() || !pkcs11::NeedsNewSession(rv) || HandleIsStale(rv)) {
      return result;
    }
    SIGNET_RETURN_IF_ERROR(Reopen(admin, rv, true));
    return op(admin);
  }

  std::string RefFor(const KeyState& key) const {
    pkcs11::Pkcs11Uri uri;
    uri.token = token_label;
    uri.serial = token_label.empty() ? token_serial : "";
    uri.object = key.label;
    uri.id = key.id;
    uri.type = "private";
    return pkcs11::FormatPkcs11Uri(uri);
  }

  // One attempt on worker `index`'s session, opening it first if it is gone.
  StatusOr<Bytes> SignOnce(size_t index, KeyState& key, const SignRequest& request) {
    Session& session = sessions[index];
    if (!session.valid()) {
      SIGNET_ASSIGN_OR_RETURN(session, OpenLoggedIn(false));
    }
    return pkcs11::SignRaw(session, key.handle.load(), key.algorithm, request);
  }

  // Reopens worker `index`'s session and finds the key again after `why` said the
  // session or the handle was lost. A session lost again while recovering (a device
  // dropping sessions in bursts) is reopened again, three times at most; a login the
  // token refused ends recovery at once, so a wrong PIN is never tried twice.
  Status Recover(size_t index, KeyState& key, CK_RV why) {
    Status status;
    for (int attempt = 0; attempt < 3; ++attempt) {
      status = HandleIsStale(why) ? OkStatus() : Reopen(sessions[index], why, false);
      if (status.ok()) {
        StatusOr<CK_OBJECT_HANDLE> handle =
            pkcs11::FindKey(sessions[index], CKO_PRIVATE_KEY, key.id, key.label);
        if (handle.ok()) {
          key.handle.store(*handle);
          return OkStatus();
        }
        status = handle.status();
      }
      why = RvOf(status);
      if (!pkcs11::NeedsNewSession(why) || HandleIsStale(why)) {
        return status;
      }
    }
    return status;
  }

  // Signs on worker `index`. After a lost session or a stale handle the request is
  // signed once more, on a recovered session.
  StatusOr<Bytes> Sign(size_t index, KeyState& key, const SignRequest& request) {
    StatusOr<Bytes> raw = SignOnce(index, key, request);
    CK_RV rv = RvOf(raw.status());
    if (!raw.ok() && pkcs11::NeedsNewSession(rv)) {
      Status recovered = Recover(index, key, rv);
      if (!recovered.ok()) {
        return recovered.WithContext("pkcs11 key '" + key.label + "': recovering from " +
                                     pkcs11::CkrName(rv) + ": ");
      }
      raw = SignOnce(index, key, request);
    }
    if (!raw.ok()) {
      return raw.status().WithContext("pkcs11 key '" + key.label + "': ");
    }

    SIGNET_ASSIGN_OR_RETURN(Bytes signature,
                            FormatFromRaw(key.algorithm, request.format, std::move(*raw)));
    SIGNET_RETURN_IF_ERROR(key.check->Check(request, signature));
    return signature;
  }
};

namespace {

class Pkcs11Key : public SigningKey {
 public:
  Pkcs11Key(std::string ref, std::shared_ptr<KeyState> state, Pkcs11Backend::Impl* backend)
      : SigningKey(std::move(ref), state->algorithm, state->public_key),
        state_(std::move(state)),
        backend_(backend) {}

  void Sign(SignRequest request, SignCallback done) override {
    Status valid = CheckSignRequest(algorithm(), request);
    if (!valid.ok()) {
      backend_->executor->Post([valid, done = std::move(done)](size_t) { done(valid); });
      return;
    }
    backend_->executor->Post(
        [state = state_, backend = backend_, request = std::move(request),
         done = std::move(done)](size_t worker) { done(backend->Sign(worker, *state, request)); });
  }

 private:
  std::shared_ptr<KeyState> state_;
  Pkcs11Backend::Impl* backend_;
};

// Reads what LoadKey and GenerateKey need about a key pair found in the token.
StatusOr<std::shared_ptr<KeyState>> Describe(Session& session, CK_OBJECT_HANDLE private_key,
                                             CheckRate check_rate) {
  auto state = std::make_shared<KeyState>();
  state->handle.store(private_key);
  SIGNET_ASSIGN_OR_RETURN(state->id, session.Attribute(private_key, CKA_ID));
  SIGNET_ASSIGN_OR_RETURN(Bytes label, session.Attribute(private_key, CKA_LABEL));
  state->label.assign(label.begin(), label.end());
  SIGNET_ASSIGN_OR_RETURN(state->algorithm, pkcs11::AlgorithmOf(session, private_key));
  SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE public_key,
                          pkcs11::FindKey(session, CKO_PUBLIC_KEY, state->id, ""));
  SIGNET_ASSIGN_OR_RETURN(state->public_key.spki_der,
                          pkcs11::PublicKeySpki(session, public_key, state->algorithm));
  SIGNET_ASSIGN_OR_RETURN(SignatureVerifier verifier,
                          SignatureVerifier::Create(state->public_key, state->algorithm));
  state->check.emplace(std::move(verifier), check_rate);
  return state;
}

}  // namespace

StatusOr<std::unique_ptr<Pkcs11Backend>> Pkcs11Backend::Create(Options options) {
  auto impl = std::make_unique<Impl>();
  impl->token_label = options.token_label;
  impl->token_serial = options.token_serial;
  impl->check_rate = options.check_rate;
  if (impl->token_label.empty() == impl->token_serial.empty()) {
    return Status(Code::kInvalidArgument,
                  "pkcs11 backend needs exactly one of a token label "
                  "and a token serial number");
  }
  SIGNET_ASSIGN_OR_RETURN(impl->pin, ReadSecret(options.pin));
  SIGNET_ASSIGN_OR_RETURN(impl->module, pkcs11::Module::Load(options.module_path));
  SIGNET_ASSIGN_OR_RETURN(impl->slot,
                          impl->module->FindToken(impl->token_label, impl->token_serial));

  // Log in once, on the admin session: a wrong PIN fails here, tried exactly once.
  SIGNET_ASSIGN_OR_RETURN(impl->admin, impl->OpenLoggedIn(true));

  for (Algorithm alg : kAllAlgorithms) {
    if (impl->module->HasMechanism(impl->slot, pkcs11::GenerationMechanism(alg)) &&
        impl->module->HasMechanism(impl->slot, pkcs11::SigningMechanism(alg))) {
      impl->algorithms.push_back(alg);
    }
  }

  // Size the pool to the token: every signing session and the admin session count
  // against ulMaxSessionCount; signing sessions are read-only, so only the admin
  // session counts against ulMaxRwSessionCount.
  SIGNET_ASSIGN_OR_RETURN(CK_TOKEN_INFO info, impl->module->TokenInfo(impl->slot));
  size_t workers = std::max<size_t>(1, options.workers);
  CK_ULONG max_sessions = info.ulMaxSessionCount;
  if (max_sessions != CK_EFFECTIVELY_INFINITE && max_sessions != CK_UNAVAILABLE_INFORMATION) {
    workers = std::min<size_t>(workers, std::max<CK_ULONG>(1, max_sessions - 1));
  }
  for (size_t i = 0; i < workers; ++i) {
    SIGNET_ASSIGN_OR_RETURN(Session session, impl->OpenLoggedIn(false));
    impl->sessions.push_back(std::move(session));
  }
  impl->executor = std::make_unique<BatchExecutor>(workers, options.max_batch);
  return std::unique_ptr<Pkcs11Backend>(new Pkcs11Backend(std::move(impl)));
}

Pkcs11Backend::Pkcs11Backend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pkcs11Backend::~Pkcs11Backend() {
  // Finish queued signatures first: they use the sessions, which use the module.
  impl_->executor.reset();
  impl_->sessions.clear();
  impl_->admin = Session();
}

size_t Pkcs11Backend::queue_depth() const {
  return impl_->executor ? impl_->executor->queue_depth() : 0;
}

Capabilities Pkcs11Backend::capabilities() const {
  Capabilities caps;
  caps.algorithms = impl_->algorithms;
  caps.max_parallel_signatures = impl_->sessions.size();
  caps.hardware = true;
  caps.verifies_signatures = true;
  return caps;
}

size_t Pkcs11Backend::session_pool_size() const {
  return impl_->sessions.size();
}

uint64_t Pkcs11Backend::sessions_reopened() const {
  return impl_->reopened.load();
}

StatusOr<std::shared_ptr<SigningKey>> Pkcs11Backend::GenerateKey(const KeySpec& spec) {
  SIGNET_RETURN_IF_ERROR(ValidateKeySpec(spec));
  if (std::find(impl_->algorithms.begin(), impl_->algorithms.end(), spec.algorithm) ==
      impl_->algorithms.end()) {
    return Status(Code::kUnsupported, "the token's module offers no " +
                                          std::string(AlgorithmName(spec.algorithm)) +
                                          " key generation or signing mechanism");
  }

  using Result = StatusOr<std::shared_ptr<KeyState>>;
  Result state = impl_->WithAdmin([&](Session& session) -> Result {
    std::vector<CK_ATTRIBUTE> by_label = {Attr(CKA_LABEL, spec.label.data(), spec.label.size())};
    SIGNET_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> taken, session.Find(by_label, 1));
    if (!taken.empty()) {
      return Status(Code::kAlreadyExists,
                    "the token already holds an object labelled '" + spec.label + "'");
    }

    // A random CKA_ID, drawn again in the unlikely case that the token already has it.
    Bytes id(kIdSize);
    for (;;) {
      if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
        return Status(Code::kInternal, "RAND_bytes failed to draw a key id");
      }
      std::vector<CK_ATTRIBUTE> by_id = {Attr(CKA_ID, id.data(), id.size())};
      SIGNET_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> clash, session.Find(by_id, 1));
      if (clash.empty()) {
        break;
      }
    }

    SIGNET_ASSIGN_OR_RETURN(pkcs11::KeyPair pair, pkcs11::GenerateKeyPair(session, spec, id));
    Result described = Describe(session, pair.private_key, impl_->check_rate);
    if (!described.ok()) {
      // Leave no key behind that nobody holds a reference to; the first error is the one
      // to report.
      (void)session.Destroy(pair.private_key);
      (void)session.Destroy(pair.public_key);
    }
    return described;
  });
  if (!state.ok()) {
    return state.status().WithContext("generating pkcs11 key '" + spec.label + "': ");
  }
  std::string ref = impl_->RefFor(**state);
  return std::shared_ptr<SigningKey>(
      std::make_shared<Pkcs11Key>(std::move(ref), std::move(*state), impl_.get()));
}

namespace {

// Checks that a parsed reference names a private key in this backend's token.
Status CheckRef(const pkcs11::Pkcs11Uri& uri, std::string_view ref, const std::string& label,
                const std::string& serial) {
  if (uri.id.empty() && uri.object.empty()) {
    return Status(Code::kInvalidArgument,
                  "pkcs11: key reference '" + std::string(ref) + "' names neither id nor object");
  }
  if (!uri.type.empty() && uri.type != "private") {
    return Status(Code::kInvalidArgument, "pkcs11: key reference '" + std::string(ref) +
                                              "' has type=" + uri.type + "; keys are type=private");
  }
  if ((!uri.token.empty() && !label.empty() && uri.token != label) ||
      (!uri.serial.empty() && !serial.empty() && uri.serial != serial)) {
    return Status(Code::kNotFound, "pkcs11: key reference '" + std::string(ref) +
                                       "' names another token than this backend's ('" +
                                       (label.empty() ? serial : label) + "')");
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::shared_ptr<SigningKey>> Pkcs11Backend::LoadKey(std::string_view ref) {
  SIGNET_ASSIGN_OR_RETURN(pkcs11::Pkcs11Uri uri, pkcs11::ParsePkcs11Uri(ref));
  SIGNET_RETURN_IF_ERROR(CheckRef(uri, ref, impl_->token_label, impl_->token_serial));

  using Result = StatusOr<std::shared_ptr<KeyState>>;
  Result state = impl_->WithAdmin([&](Session& session) -> Result {
    SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE private_key,
                            pkcs11::FindKey(session, CKO_PRIVATE_KEY, uri.id, uri.object));
    return Describe(session, private_key, impl_->check_rate);
  });
  if (!state.ok()) {
    return state.status().WithContext("loading " + std::string(ref) + ": ");
  }
  return std::shared_ptr<SigningKey>(
      std::make_shared<Pkcs11Key>(impl_->RefFor(**state), std::move(*state), impl_.get()));
}

Status Pkcs11Backend::DestroyKey(std::string_view ref) {
  SIGNET_ASSIGN_OR_RETURN(pkcs11::Pkcs11Uri uri, pkcs11::ParsePkcs11Uri(ref));
  SIGNET_RETURN_IF_ERROR(CheckRef(uri, ref, impl_->token_label, impl_->token_serial));

  using Result = StatusOr<bool>;
  Result destroyed = impl_->WithAdmin([&](Session& session) -> Result {
    SIGNET_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE private_key,
                            pkcs11::FindKey(session, CKO_PRIVATE_KEY, uri.id, uri.object));
    SIGNET_ASSIGN_OR_RETURN(Bytes id, session.Attribute(private_key, CKA_ID));
    SIGNET_RETURN_IF_ERROR(session.Destroy(private_key));

    // The public half shares the CKA_ID; a key pair whose public object was already
    // removed by someone else is still destroyed.
    CK_OBJECT_CLASS klass = kPublicClass;
    std::vector<CK_ATTRIBUTE> attrs = {Attr(CKA_CLASS, &klass, sizeof(klass)),
                                       Attr(CKA_ID, id.data(), id.size())};
    SIGNET_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> publics, session.Find(attrs));
    for (CK_OBJECT_HANDLE object : publics) {
      SIGNET_RETURN_IF_ERROR(session.Destroy(object));
    }
    return true;
  });
  if (!destroyed.ok()) {
    return destroyed.status().WithContext("destroying " + std::string(ref) + ": ");
  }
  return OkStatus();
}

}  // namespace signet
