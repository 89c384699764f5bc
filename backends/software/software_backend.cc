#include "backends/software/software_backend.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "signer/ossl.h"
#include "signer/signature.h"

namespace signet {

struct SoftwareBackend::KeyState {
  KeyState(std::string label, Algorithm algorithm)
      : label(std::move(label)), algorithm(algorithm) {}

  std::string label;
  Algorithm algorithm;
  ossl::PkeyPtr pkey;
  std::atomic<bool> destroyed{false};

  // Signing contexts already set up, one per signature running at once: setting a context up
  // looks the algorithm and digest up by name, which costs a tenth of an ECDSA signature, and
  // EVP_PKEY_sign may be called on one context again and again.
  std::mutex prepared_mu;
  std::vector<ossl::PkeyCtxPtr> prepared;
};

namespace {

constexpr std::string_view kScheme = "software:";

std::string RefFor(const std::string& label, Algorithm alg) {
  return std::string(kScheme) + "label=" + label + ";alg=" + std::string(AlgorithmName(alg));
}

struct ParsedRef {
  std::string label;
  Algorithm algorithm;
};

StatusOr<ParsedRef> ParseRef(std::string_view ref) {
  if (!ref.starts_with(kScheme)) {
    return Status(
        Code::kInvalidArgument,
        "software key reference must start with 'software:', got '" + std::string(ref) + "'");
  }
  std::string_view rest = ref.substr(kScheme.size());
  std::string label;
  std::string alg;
  while (!rest.empty()) {
    size_t end = rest.find(';');
    std::string_view attr = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (attr.starts_with("label=")) {
      label = attr.substr(6);
    } else if (attr.starts_with("alg=")) {
      alg = attr.substr(4);
    } else {
      return Status(Code::kInvalidArgument, "software key reference '" + std::string(ref) +
                                                "' has an unknown attribute '" + std::string(attr) +
                                                "'");
    }
  }
  if (label.empty() || alg.empty()) {
    return Status(Code::kInvalidArgument,
                  "software key reference '" + std::string(ref) + "' needs label= and alg=");
  }
  SIGNET_ASSIGN_OR_RETURN(Algorithm algorithm, ParseAlgorithm(alg));
  return ParsedRef{label, algorithm};
}

StatusOr<ossl::PkeyPtr> Generate(const KeySpec& spec) {
  EVP_PKEY* raw = nullptr;
  switch (spec.algorithm) {
    case Algorithm::kES256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case Algorithm::kES384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case Algorithm::kEdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case Algorithm::kPS256:
    case Algorithm::kRS256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.rsa_bits));
      break;
  }
  if (raw == nullptr) {
    return ossl::Error("EVP_PKEY_Q_keygen");
  }
  return ossl::PkeyPtr(raw);
}

// Checks that a key read from a file is of the family its reference names.
Status CheckFamily(EVP_PKEY* pkey, Algorithm alg, const std::string& label) {
  int id = EVP_PKEY_get_base_id(pkey);
  bool match = false;
  switch (FamilyOf(alg)) {
    case KeyFamily::kEc:
      match = id == EVP_PKEY_EC &&
              EVP_PKEY_get_bits(pkey) == static_cast<int>(EcCoordinateSize(alg) * 8);
      break;
    case KeyFamily::kEd25519:
      match = id == EVP_PKEY_ED25519;
      break;
    case KeyFamily::kRsa:
      match = id == EVP_PKEY_RSA;
      break;
  }
  if (!match) {
    return Status(Code::kInvalidArgument, "software key '" + label + "' is not an " +
                                              std::string(AlgorithmName(alg)) + " key");
  }
  return OkStatus();
}

Status WritePrivateKeyFile(EVP_PKEY* pkey, const std::string& path) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(Code::kPermissionDenied, "cannot create key file " + tmp);
  }
  FILE* file = ::fdopen(fd, "w");
  bool written = file != nullptr &&
                 PEM_write_PrivateKey(file, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
                 std::fflush(file) == 0 && ::fsync(fd) == 0;
  if (file != nullptr) {
    std::fclose(file);
  } else {
    ::close(fd);
  }
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return ossl::Error("PEM_write_PrivateKey(" + path + ")", Code::kDeviceError);
  }
  return OkStatus();
}

// Ed25519 signs the whole message in one pass, so it has no context worth preparing.
StatusOr<Bytes> SignEd25519(EVP_PKEY* pkey, const SignRequest& request) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, request.input.data(), request.input.size()) != 1) {
    return ossl::Error("EVP_DigestSign(Ed25519)");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, request.input.data(), request.input.size()) !=
      1) {
    return ossl::Error("EVP_DigestSign(Ed25519)");
  }
  sig.resize(len);
  return sig;
}

// A context set up to sign digests with `pkey` (hash and padding chosen).
StatusOr<ossl::PkeyCtxPtr> PrepareSigning(EVP_PKEY* pkey, Algorithm alg) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), ossl::DigestFor(HashOf(alg))) <= 0) {
    return ossl::Error("EVP_PKEY_sign_init");
  }
  if (alg == Algorithm::kPS256 &&
      (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) <= 0 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) <= 0)) {
    return ossl::Error("EVP_PKEY_CTX_set_rsa_padding(PSS)");
  }
  if (alg == Algorithm::kRS256 && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0) {
    return ossl::Error("EVP_PKEY_CTX_set_rsa_padding(PKCS1)");
  }
  return ctx;
}

// Signs with a prepared context taken from the key's pool, and puts it back.
StatusOr<Bytes> SignWith(SoftwareBackend::KeyState& key, const SignRequest& request) {
  if (key.destroyed.load()) {
    return Status(Code::kNotFound, "software key '" + key.label + "' was destroyed");
  }
  if (key.algorithm == Algorithm::kEdDSA) {
    return SignEd25519(key.pkey.get(), request);
  }

  ossl::PkeyCtxPtr ctx;
  {
    std::lock_guard<std::mutex> lock(key.prepared_mu);
    if (!key.prepared.empty()) {
      ctx = std::move(key.prepared.back());
      key.prepared.pop_back();
    }
  }
  if (!ctx) {
    SIGNET_ASSIGN_OR_RETURN(ctx, PrepareSigning(key.pkey.get(), key.algorithm));
  }
  SIGNET_ASSIGN_OR_RETURN(Bytes digest, DigestToSign(key.algorithm, request));
  Bytes sig(static_cast<size_t>(EVP_PKEY_get_size(key.pkey.get())));
  size_t len = sig.size();
  int signed_ok = EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size());
  {
    std::lock_guard<std::mutex> lock(key.prepared_mu);
    key.prepared.push_back(std::move(ctx));
  }
  if (signed_ok != 1) {
    return ossl::Error("EVP_PKEY_sign");
  }
  sig.resize(len);
  return FormatFromDer(key.algorithm, request.format, std::move(sig));
}

class SoftwareKey : public SigningKey {
 public:
  SoftwareKey(std::shared_ptr<SoftwareBackend::KeyState> state, PublicKey public_key,
              BatchExecutor* executor)  // null: sign on the calling thread
      : SigningKey(RefFor(state->label, state->algorithm), state->algorithm, std::move(public_key)),
        state_(std::move(state)),
        executor_(executor) {}

  void Sign(SignRequest request, SignCallback done) override {
    Status valid = CheckSignRequest(algorithm(), request);
    if (executor_ == nullptr) {
      done(valid.ok() ? SignWith(*state_, request) : StatusOr<Bytes>(valid));
      return;
    }
    if (!valid.ok()) {
      executor_->Post([valid, done = std::move(done)](size_t) { done(valid); });
      return;
    }
    executor_->Post([state = state_, request = std::move(request), done = std::move(done)](size_t) {
      done(SignWith(*state, request));
    });
  }

 private:
  std::shared_ptr<SoftwareBackend::KeyState> state_;
  BatchExecutor* executor_;
};

}  // namespace

SoftwareBackend::SoftwareBackend(Options options) : options_(std::move(options)) {
  if (options_.workers > 0) {
    executor_ = std::make_unique<BatchExecutor>(options_.workers, options_.max_batch);
  }
}

SoftwareBackend::~SoftwareBackend() = default;

size_t SoftwareBackend::queue_depth() const {
  return executor_ != nullptr ? executor_->queue_depth() : 0;
}

Capabilities SoftwareBackend::capabilities() const {
  Capabilities caps;
  caps.algorithms.assign(std::begin(kAllAlgorithms), std::end(kAllAlgorithms));
  caps.max_parallel_signatures = executor_ != nullptr ? executor_->workers() : 1;
  caps.hardware = false;
  caps.verifies_signatures = false;
  return caps;
}

std::string SoftwareBackend::PathFor(const std::string& label) const {
  return options_.key_dir + "/" + label + ".pem";
}

StatusOr<std::shared_ptr<SigningKey>> SoftwareBackend::MakeKey(std::shared_ptr<KeyState> state) {
  SIGNET_ASSIGN_OR_RETURN(Bytes spki, ossl::PublicKeyDer(state->pkey.get()));
  return std::shared_ptr<SigningKey>(
      std::make_shared<SoftwareKey>(std::move(state), PublicKey{std::move(spki)}, executor_.get()));
}

StatusOr<std::shared_ptr<SigningKey>> SoftwareBackend::GenerateKey(const KeySpec& spec) {
  SIGNET_RETURN_IF_ERROR(ValidateKeySpec(spec));

  std::lock_guard<std::mutex> lock(mu_);
  struct stat st;
  if (keys_.count(spec.label) != 0 ||
      (!options_.key_dir.empty() && ::stat(PathFor(spec.label).c_str(), &st) == 0)) {
    return Status(Code::kAlreadyExists, "software key '" + spec.label + "' already exists");
  }

  auto state = std::make_shared<KeyState>(spec.label, spec.algorithm);
  SIGNET_ASSIGN_OR_RETURN(state->pkey, Generate(spec));
  if (!options_.key_dir.empty()) {
    SIGNET_RETURN_IF_ERROR(WritePrivateKeyFile(state->pkey.get(), PathFor(spec.label)));
  }
  keys_[spec.label] = state;
  return MakeKey(std::move(state));
}

StatusOr<std::shared_ptr<SigningKey>> SoftwareBackend::LoadKey(std::string_view ref) {
  SIGNET_ASSIGN_OR_RETURN(ParsedRef parsed, ParseRef(ref));

  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(parsed.label);
  if (it != keys_.end()) {
    if (it->second->algorithm != parsed.algorithm) {
      return Status(Code::kInvalidArgument, "software key '" + parsed.label + "' is " +
                                                std::string(AlgorithmName(it->second->algorithm)) +
                                                ", not " +
                                                std::string(AlgorithmName(parsed.algorithm)));
    }
    return MakeKey(it->second);
  }
  if (options_.key_dir.empty()) {
    return Status(Code::kNotFound, "no software key '" + parsed.label + "' in memory");
  }

  std::string path = PathFor(parsed.label);
  ossl::BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return Status(Code::kNotFound, "no software key '" + parsed.label + "' (" + path + ")");
  }
  auto state = std::make_shared<KeyState>(parsed.label, parsed.algorithm);
  state->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!state->pkey) {
    return ossl::Error("PEM_read_bio_PrivateKey(" + path + ")", Code::kInvalidArgument);
  }
  SIGNET_RETURN_IF_ERROR(CheckFamily(state->pkey.get(), parsed.algorithm, parsed.label));
  keys_[parsed.label] = state;
  return MakeKey(std::move(state));
}

Status SoftwareBackend::DestroyKey(std::string_view ref) {
  SIGNET_ASSIGN_OR_RETURN(ParsedRef parsed, ParseRef(ref));

  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(parsed.label);
  bool found = it != keys_.end();
  if (found) {
    it->second->destroyed.store(true);
    keys_.erase(it);
  }
  if (!options_.key_dir.empty() && ::unlink(PathFor(parsed.label).c_str()) == 0) {
    found = true;
  }
  if (!found) {
    return Status(Code::kNotFound, "no software key '" + parsed.label + "' to destroy");
  }
  return OkStatus();
}

}  // namespace signet
