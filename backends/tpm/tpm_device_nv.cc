// The parts of TpmDevice that deal with persistent handles in the TPM's NV memory.
#include <tss2/tss2_rc.h>

#include <algorithm>

#include "backends/tpm/tpm_device.h"
#include "backends/tpm/tpm_key_ref.h"
#include "backends/tpm/tss_status.h"

namespace signet::tpm {

StatusOr<TPM2B_PUBLIC> TpmDevice::ReadPersistentPublic(TPM2_HANDLE tpm_handle) {
  SIGNET_RETURN_IF_ERROR(Connect());
  std::string hex = HandleHex(tpm_handle);
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(ctx_.get(), tpm_handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &handle);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_TR_FromTPMPublic(" + hex + ")", rc);
  }
  EsysObject object(ctx_, handle, EsysObject::Release::kClose);
  TPM2B_PUBLIC* out_public = nullptr;
  rc = Esys_ReadPublic(ctx_.get(), handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &out_public,
                       nullptr, nullptr);
  EsysBuffer<TPM2B_PUBLIC> owner(out_public);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_ReadPublic(" + hex + ")", rc);
  }
  return *out_public;
}

StatusOr<TPM2_HANDLE> TpmDevice::Persist(const KeyBlobs& blobs, TPM2_HANDLE first) {
  SIGNET_RETURN_IF_ERROR(Connect());
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* data = nullptr;
  TSS2_RC rc = Esys_GetCapability(ctx_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_HANDLES, first, TPM2_MAX_CAP_HANDLES, &more, &data);
  EsysBuffer<TPMS_CAPABILITY_DATA> data_owner(data);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_GetCapability(TPM2_CAP_HANDLES)", rc);
  }
  TPM2_HANDLE chosen = first;
  const TPML_HANDLE& used = data->data.handles;
  while (std::find(used.handle, used.handle + used.count, chosen) != used.handle + used.count) {
    ++chosen;
  }
  if (chosen > TPM2_PERSISTENT_LAST) {
    return Status(Code::kFailedPrecondition, "no free persistent handle in the TPM");
  }

  // Make room: the key is loaded once more, transiently, to be copied into NV memory.
  while (loaded_.size() >= std::max<size_t>(1, options_.max_loaded_keys) &&
         EvictLeastRecentlyUsed()) {
  }
  SIGNET_ASSIGN_OR_RETURN(EsysObject transient, LoadBlobs(blobs, "new key"));
  SIGNET_ASSIGN_OR_RETURN(ESYS_TR session, AuthSession(0));
  ESYS_TR persistent = ESYS_TR_NONE;
  rc = WithObjectRoom([&] {
    return Esys_EvictControl(ctx_.get(), ESYS_TR_RH_OWNER, transient.get(), session, ESYS_TR_NONE,
                             ESYS_TR_NONE, chosen, &persistent);
  });
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_EvictControl(persist at " + HandleHex(chosen) + ")", rc);
  }
  EsysObject close_me(ctx_, persistent, EsysObject::Release::kClose);
  return chosen;
}

Status TpmDevice::EvictPersistent(TPM2_HANDLE tpm_handle) {
  SIGNET_RETURN_IF_ERROR(Connect());
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(ctx_.get(), tpm_handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &handle);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_TR_FromTPMPublic(" + HandleHex(tpm_handle) + ")", rc);
  }
  EsysObject object(ctx_, handle, EsysObject::Release::kClose);
  SIGNET_ASSIGN_OR_RETURN(ESYS_TR session, AuthSession(0));
  ESYS_TR none = ESYS_TR_NONE;
  rc = Esys_EvictControl(ctx_.get(), ESYS_TR_RH_OWNER, handle, session, ESYS_TR_NONE, ESYS_TR_NONE,
                         tpm_handle, &none);
  if (rc != TSS2_RC_SUCCESS) {
    return Fail("Esys_EvictControl(evict " + HandleHex(tpm_handle) + ")", rc);
  }
  return OkStatus();
}

}  // namespace signet::tpm
