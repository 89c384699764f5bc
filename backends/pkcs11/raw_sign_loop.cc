#include "backends/pkcs11/raw_sign_loop.h"

#include <chrono>

#include "backends/pkcs11/ck_status.h"
#include "backends/pkcs11/module.h"
#include "backends/pkcs11/uri.h"

namespace signet::pkcs11 {

StatusOr<double> RawSignLoopRate(const std::string& module_path, const std::string& key_uri,
                                 const Secret& pin, double seconds) {
  SIGNET_ASSIGN_OR_RETURN(Pkcs11Uri uri, ParsePkcs11Uri(key_uri));
  SIGNET_ASSIGN_OR_RETURN(auto module, Module::Load(module_path));
  SIGNET_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindToken(uri.token, uri.serial));
  SIGNET_ASSIGN_OR_RETURN(Session session, Session::Open(module, slot, false));
  SIGNET_RETURN_IF_ERROR(session.Login(pin));

  CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
  std::vector<CK_ATTRIBUTE> query = {{CKA_CLASS, &klass, sizeof(klass)}};
  if (!uri.id.empty()) {
    query.push_back({CKA_ID, uri.id.data(), uri.id.size()});
  }
  if (!uri.object.empty()) {
    query.push_back({CKA_LABEL, uri.object.data(), uri.object.size()});
  }
  SIGNET_ASSIGN_OR_RETURN(auto keys, session.Find(query, 2));
  if (keys.size() != 1) {
    return Status(Code::kNotFound, "'" + key_uri + "' names " + std::to_string(keys.size()) +
                                       " private keys, not one");
  }

  uint8_t digest[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  CK_FUNCTION_LIST* fn = session.fn();
  using Clock = std::chrono::steady_clock;
  Clock::time_point start = Clock::now();
  Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  long count = 0;
  while (Clock::now() < end) {
    CK_MECHANISM mechanism = {CKM_ECDSA, nullptr, 0};
    uint8_t signature[132];
    CK_ULONG length = sizeof(signature);
    CK_RV rv = fn->C_SignInit(session.handle(), &mechanism, keys[0]);
    if (rv != CKR_OK) {
      return CkStatus("C_SignInit", rv);
    }
    rv = fn->C_Sign(session.handle(), digest, sizeof(digest), signature, &length);
    if (rv != CKR_OK) {
      return CkStatus("C_Sign", rv);
    }
    ++count;
  }
  return static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace signet::pkcs11
