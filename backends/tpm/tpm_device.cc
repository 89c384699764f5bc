#include "backends/tpm/tpm_device.h"

#include <openssl/crypto.h>
#include <tss2/tss2_rc.h>

#include <algorithm>
#include <cstring>

#include "backends/tpm/tss_status.h"

namespace signet::tpm {
namespace {

// A failed reconnect is not tried again sooner than this: a TPM that is down
// should cost queued requests a quick kUnavailable, not a connect attempt each.
constexpr auto kReconnectInterval = std::chrono::milliseconds(20);

constexpr TPMA_SESSION kSessionAttributes =
    TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION;

Status CopyAuth(const Secret& secret, TPM2B_AUTH* out, const std::string& what) {
  std::string_view value = secret.reveal();
  if (value.size() > sizeof(out->buffer)) {
    return Status(Code::kInvalidArgument, "the authorization value for " + what +
                                              " is longer than " +
                                              std::to_string(sizeof(out->buffer)) + " bytes");
  }
  out->size = static_cast<UINT16>(value.size());
  std::memcpy(out->buffer, value.data(), value.size());
  return OkStatus();
}

// Wipes a TPM2B_AUTH or TPM2B_SENSITIVE_CREATE that held an authorization value.
template <typename T>
struct Wiped {
  T value{};
  ~Wiped() { OPENSSL_cleanse(&value, sizeof(value)); }
};

}  // namespace

TpmDevice::TpmDevice(DeviceOptions options) : options_(std::move(options)) {}

TpmDevice::~TpmDevice() = default;

Status TpmDevice::Fail(std::string_view call, TSS2_RC rc) {
  Status status = TssError(call, rc);
  if (IsConnectionLost(rc)) {
    Disconnect();
  } else if (status.code() == Code::kWrongPin || status.code() == Code::kPinLocked) {
    session_.Reset();  // start the next command on a fresh session, nonces in step
  }
  return status;
}

void TpmDevice::Disconnect() {
  for (auto& [id, key] : loaded_) {
    key.object.Forget();
  }
  loaded_.clear();
  lru_.clear();
  session_.Forget();
  srk_.Forget();
  ctx_.reset();
  tcti_.reset();
}

Status TpmDevice::Connect() {
  if (ctx_) {
    return OkStatus();
  }
  if (std::chrono::steady_clock::now() - last_failure_ < kReconnectInterval) {
    return Status(Code::kUnavailable, "TPM at '" + options_.tcti +
                                          "' is unreachable; the last connection attempt failed "
                                          "moments ago");
  }
  Status status = ConnectOnce();
  if (!status.ok()) {
    last_failure_ = std::chrono::steady_clock::now();
  }
  return status;
}

Status TpmDevice::ConnectOnce() {
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(options_.tcti.c_str(), &tcti);
  if (rc != TSS2_RC_SUCCESS) {
    Status status = TssError("Tss2_TctiLdr_Initialize(" + options_.tcti + ")", rc);
    // Not yet: telling a TCTI that cannot connect from one that is misconfigured;
    // both are reported as unavailable so that a restarting TPM is retried.
    return Status(Code::kUnavailable, status.message(), rc);
  }
  tcti_.reset(tcti);

  ESYS_CONTEXT* ctx = nullptr;
  rc = Esys_Initialize(&ctx, tcti_.get(), nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    tcti_.reset();
    return TssError("Esys_Initialize", rc);
  }
  ctx_.reset(ctx);
  Esys_SetTimeout(ctx_.get(), options_.command_timeout_ms);

  Status status = StartupIfNeeded();
  if (status.ok()) {
    status = CreateSrk();
  }
  if (status.ok() && options_.session == SessionMode::kHmac) {
    status = StartSession();
  }
  if (!status.ok()) {
    Disconnect();
    return status;
  }
  return OkStatus();
}

Status TpmDevice::StartupIfNeeded() {
  // The cheapest command there is; a TPM that was just powered on (a restarted
  // swtpm without startup-clear) answers it with TPM_RC_INITIALIZE.
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* data = nullptr;
  TSS2_RC rc = Esys_GetCapability(ctx_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_TPM_PROPERTIES, TPM2_PT_MANUFACTURER, 1, &more, &data);
  EsysBuffer<TPMS_CAPABILITY_DATA> data_owner(data);
  if (BaseCode(rc) == TPM2_RC_INITIALIZE) {
    rc = Esys_Startup(ctx_.get(), TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && BaseCode(rc) != TPM2_RC_INITIALIZE) {
      return TssError("Esys_Startup(TPM2_SU_CLEAR)", rc);
    }
    return OkStatus();
  }
  if (rc != TSS2_RC_SUCCESS) {
    return TssError("Esys_GetCapability(TPM2_PT_MANUFACTURER)", rc);
  }
  return OkStatus();
}

Status TpmDevice::CreateSrk() {
  Wiped<TPM2B_SENSITIVE_CREATE> sensitive;
  TPM2B_PUBLIC tmpl = SrkTemplate();
  TPM2B_DATA outside_info{};
  TPML_PCR_SELECTION pcrs{};

  // The owner hierarchy's authorization. Under an HMAC session it never crosses
  // the bus; the session cannot be salted yet (the SRK is what salts), so a
  // listener could still try to guess a weak value offline from the HMAC.
  ESYS_TR owner_session = ESYS_TR_PASSWORD;
  EsysObject owner_session_owner;
  if (!options_.owner_auth.empty()) {
    Wiped<TPM2B_AUTH> owner;
    SIGNET_RETURN_IF_ERROR(CopyAuth(options_.owner_auth, &owner.value, "the owner hierarchy"));
    Esys_TR_SetAuth(ctx_.get(), ESYS_TR_RH_OWNER, &owner.value);
    if (options_.session == SessionMode::kHmac) {
      TPMT_SYM_DEF no_encryption{};
      no_encryption.algorithm = TPM2_ALG_NULL;
      TSS2_RC rc = Esys_StartAuthSession(ctx_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                         ESYS_TR_NONE, ESYS_TR_NONE, nullptr, TPM2_SE_HMAC,
                                         &no_encryption, TPM2_ALG_SHA256, &owner_session);
      if (rc != TSS2_RC_SUCCESS) {
        return TssError("Esys_StartAuthSession(owner hierarchy)", rc);
      }
      owner_session_owner = EsysObject(ctx_, owner_session, EsysObject::Release::kFlush);
    }
  }

  ESYS_TR srk = ESYS_TR_NONE;
  TSS2_RC rc = Esys_CreatePrimary(ctx_.get(), ESYS_TR_RH_OWNER, owner_session, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sensitive.value, &tmpl, &outside_info, &pcrs, &srk,
                                  nullptr, nullptr, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    return TssError("Esys_CreatePrimary(SRK)", rc);
  }
  srk_ = EsysObject(ctx_, srk, EsysObject::Release::kFlush);
  return OkStatus();
}

Status TpmDevice::StartSession() {
  TPMT_SYM_DEF symmetric{};
  symmetric.algorithm = TPM2_ALG_AES;
  symmetric.keyBits.aes = 128;
  symmetric.mode.aes = TPM2_ALG_CFB;
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(ctx_.get(), srk_.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, ESYS_TR_NONE, nullptr, TPM2_SE_HMAC, &symmetric,
                                     TPM2_ALG_SHA256, &session);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_StartAuthSession(salted with the SRK)", rc);
  }
  session_ = EsysObject(ctx_, session, EsysObject::Release::kFlush);
  rc = Esys_TRSess_SetAttributes(ctx_.get(), session, kSessionAttributes, 0xff);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_TRSess_SetAttributes", rc);
  }
  return OkStatus();
}

StatusOr<ESYS_TR> TpmDevice::AuthSession(TPMA_SESSION attributes) {
  if (options_.session == SessionMode::kPassword) {
    return ESYS_TR{ESYS_TR_PASSWORD};
  }
  if (!session_) {
    SIGNET_RETURN_IF_ERROR(StartSession());
  }
  TSS2_RC rc = Esys_TRSess_SetAttributes(ctx_.get(), session_.get(),
                                         attributes | TPMA_SESSION_CONTINUESESSION, 0xff);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_TRSess_SetAttributes", rc);
  }
  return session_.get();
}

Status TpmDevice::CheckSupported(const TPM2B_PUBLIC& key_template, const std::string& what) {
  SIGNET_RETURN_IF_ERROR(Connect());
  TPMT_PUBLIC_PARMS parms{};
  parms.type = key_template.publicArea.type;
  parms.parameters = key_template.publicArea.parameters;
  TSS2_RC rc = Esys_TestParms(ctx_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &parms);
  if (rc == TSS2_RC_SUCCESS) {
    return OkStatus();
  }
  Status status = Fail("Esys_TestParms", rc);
  if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && !IsConnectionLost(rc)) {
    return Status(Code::kUnsupported, "this TPM cannot hold " + what + ": " + status.message(), rc);
  }
  return status;
}

StatusOr<KeyBlobs> TpmDevice::CreateKey(const TPM2B_PUBLIC& key_template, const Secret& auth) {
  SIGNET_RETURN_IF_ERROR(Connect());
  Wiped<TPM2B_SENSITIVE_CREATE> sensitive;
  SIGNET_RETURN_IF_ERROR(CopyAuth(auth, &sensitive.value.sensitive.userAuth, "a new key"));
  TPM2B_DATA outside_info{};
  TPML_PCR_SELECTION pcrs{};

  SIGNET_ASSIGN_OR_RETURN(ESYS_TR session,
                          AuthSession(TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT));
  TPM2B_PRIVATE* out_private = nullptr;
  TPM2B_PUBLIC* out_public = nullptr;
  TSS2_RC rc = WithObjectRoom([&] {
    return Esys_Create(ctx_.get(), srk_.get(), session, ESYS_TR_NONE, ESYS_TR_NONE,
                       &sensitive.value, &key_template, &outside_info, &pcrs, &out_private,
                       &out_public, nullptr, nullptr, nullptr);
  });
  EsysBuffer<TPM2B_PRIVATE> private_owner(out_private);
  EsysBuffer<TPM2B_PUBLIC> public_owner(out_public);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_Create", rc);
  }
  KeyBlobs blobs;
  blobs.pub = *out_public;
  blobs.priv = *out_private;
  return blobs;
}

TSS2_RC TpmDevice::WithObjectRoom(const std::function<TSS2_RC()>& command, uint64_t keep) {
  for (;;) {
    TSS2_RC rc = command();
    if (BaseCode(rc) != TPM2_RC_OBJECT_MEMORY || !EvictLeastRecentlyUsed(keep)) {
      return rc;
    }
  }
}

bool TpmDevice::EvictLeastRecentlyUsed(uint64_t keep) {
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    if (*it != keep) {
      uint64_t victim = *it;
      lru_.erase(std::next(it).base());
      loaded_.erase(victim);  // the EsysObject flushes it
      return true;
    }
  }
  return false;
}

StatusOr<EsysObject> TpmDevice::LoadBlobs(const KeyBlobs& blobs, const std::string& what) {
  SIGNET_ASSIGN_OR_RETURN(ESYS_TR session, AuthSession(TPMA_SESSION_DECRYPT));
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = WithObjectRoom([&] {
    return Esys_Load(ctx_.get(), srk_.get(), session, ESYS_TR_NONE, ESYS_TR_NONE, &blobs.priv,
                     &blobs.pub, &handle);
  });
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_Load(" + what + ")", rc);
  }
  return EsysObject(ctx_, handle, EsysObject::Release::kFlush);
}

StatusOr<ESYS_TR> TpmDevice::LoadedHandle(const KeyDescriptor& key) {
  SIGNET_RETURN_IF_ERROR(Connect());
  auto it = loaded_.find(key.id);
  if (it != loaded_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru_position);
    return it->second.object.get();
  }

  std::string what = "TPM key '" + key.label + "'";
  EsysObject object;
  if (key.persistent_handle) {
    ESYS_TR handle = ESYS_TR_NONE;
    TSS2_RC rc = Esys_TR_FromTPMPublic(ctx_.get(), *key.persistent_handle, ESYS_TR_NONE,
                                       ESYS_TR_NONE, ESYS_TR_NONE, &handle);
    if (rc != TSS2_RC_SUCCESS) {
      return Fail("Esys_TR_FromTPMPublic(" + what + ")", rc);
    }
    object = EsysObject(ctx_, handle, EsysObject::Release::kClose);
  } else {
    while (loaded_.size() >= std::max<size_t>(1, options_.max_loaded_keys) &&
           EvictLeastRecentlyUsed()) {
    }
    SIGNET_ASSIGN_OR_RETURN(object, LoadBlobs(key.blobs, what));
  }

  Wiped<TPM2B_AUTH> auth;
  SIGNET_RETURN_IF_ERROR(CopyAuth(key.auth, &auth.value, what));
  TSS2_RC rc = Esys_TR_SetAuth(ctx_.get(), object.get(), &auth.value);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_TR_SetAuth", rc);
  }

  ESYS_TR handle = object.get();
  lru_.push_front(key.id);
  loaded_.emplace(key.id, LoadedKey{std::move(object), lru_.begin()});
  return handle;
}

Status TpmDevice::Prepare(const KeyDescriptor& key) {
  return LoadedHandle(key).status();
}

StatusOr<TPMT_SIGNATURE> TpmDevice::Sign(const KeyDescriptor& key, ByteView digest) {
  TPM2B_DIGEST in{};
  if (digest.size() > sizeof(in.buffer)) {
    return Status(Code::kInvalidArgument,
                  "digest of " + std::to_string(digest.size()) + " bytes is too long for a TPM");
  }
  in.size = static_cast<UINT16>(digest.size());
  std::memcpy(in.buffer, digest.data(), digest.size());

  SIGNET_ASSIGN_OR_RETURN(ESYS_TR handle, LoadedHandle(key));
  // The digest goes in encrypted; the signature that comes back is no secret and
  // TPM2_Sign's response has no sized first parameter to encrypt.
  SIGNET_ASSIGN_OR_RETURN(ESYS_TR session, AuthSession(TPMA_SESSION_DECRYPT));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // the scheme bound into the key
  TPMT_TK_HASHCHECK validation{};
  validation.tag = TPM2_ST_HASHCHECK;
  validation.hierarchy = TPM2_RH_NULL;  // the key is unrestricted: no ticket needed
  TPMT_SIGNATURE* signature = nullptr;
  TSS2_RC rc = WithObjectRoom(
      [&] {
        return Esys_Sign(ctx_.get(), handle, session, ESYS_TR_NONE, ESYS_TR_NONE, &in, &scheme,
                         &validation, &signature);
      },
      key.id);
  EsysBuffer<TPMT_SIGNATURE> owner(signature);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_Sign", rc);
  }
  return *signature;
}

void TpmDevice::Unload(uint64_t key_id) {
  auto it = loaded_.find(key_id);
  if (it == loaded_.end()) {
    return;
  }
  lru_.erase(it->second.lru_position);
  loaded_.erase(it);
}

}  // namespace signet::tpm
