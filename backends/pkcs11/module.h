// RAII owners for a loaded PKCS#11 module and for the sessions opened on it.
//
// Module loads the shared object with dlopen, takes its CK_FUNCTION_LIST from
// C_GetFunctionList and calls C_Initialize; the last owner calls C_Finalize and
// dlclose. A PKCS#11 module is initialised once per process, so modules are
// shared by path: two backends on the same module hold the same Module, and the
// first one to go away cannot finalise the library under the other.
//
// Session owns one CK_SESSION_HANDLE and closes it when destroyed. Login state is
// per token and per process in PKCS#11: once one session has logged in, every
// session of the token is logged in, and closing the last one logs the token out.
//
// Thread safety: Module may be used from any thread (it is initialised with
// CKF_OS_LOCKING_OK). A Session must be used by one thread at a time.
#pragma once

#include <p11-kit/pkcs11.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "signer/bytes.h"
#include "signer/secret.h"
#include "signer/status.h"

namespace signet::pkcs11 {

class Module {
 public:
  // Loads the module at `path`, or returns the one this process already loaded from
  // it. kNotFound naming the path when there is no such file or it is no module.
  static StatusOr<std::shared_ptr<Module>> Load(const std::string& path);

  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CK_FUNCTION_LIST* fn() const { return fn_; }
  const std::string& path() const { return path_; }

  // The slot holding the token with this label (or, when `label` is empty, this
  // serial number). kNotFound naming the label or serial when no token matches.
  StatusOr<CK_SLOT_ID> FindToken(std::string_view label, std::string_view serial) const;

  // The token's description: session limits, flags.
  StatusOr<CK_TOKEN_INFO> TokenInfo(CK_SLOT_ID slot) const;

  // True when the token's slot offers `mechanism`.
  bool HasMechanism(CK_SLOT_ID slot, CK_MECHANISM_TYPE mechanism) const;

 private:
  Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool finalize);

  std::string path_;
  void* handle_;
  CK_FUNCTION_LIST* fn_;
  bool finalize_;
};

class Session {
 public:
  // Opens a session on `slot`; `read_write` for sessions that create or destroy objects.
  static StatusOr<Session> Open(std::shared_ptr<Module> module, CK_SLOT_ID slot, bool read_write);

  Session() = default;
  ~Session();
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  bool valid() const { return handle_ != CK_INVALID_HANDLE; }
  CK_SESSION_HANDLE handle() const { return handle_; }
  CK_FUNCTION_LIST* fn() const { return module_->fn(); }

  // Drops the handle without closing it: for a session the module already closed,
  // whose handle number the module may hand out again.
  void Forget() { handle_ = CK_INVALID_HANDLE; }

  // Logs the normal user in. Already logged in (through any session) is success.
  // kWrongPin for a rejected PIN, kPinLocked for a locked one.
  Status Login(const Secret& pin);

  // Every object matching `attrs`, at most `limit`.
  StatusOr<std::vector<CK_OBJECT_HANDLE>> Find(std::vector<CK_ATTRIBUTE> attrs, size_t limit = 16);

  // One attribute's value. kNotFound when the object has no such attribute.
  StatusOr<Bytes> Attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

  // Destroys an object on the token.
  Status Destroy(CK_OBJECT_HANDLE object);

 private:
  void Close();

  std::shared_ptr<Module> module_;
  CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
};

// A CK_ULONG attribute read as a number.
StatusOr<CK_ULONG> UlongAttribute(Session& session, CK_OBJECT_HANDLE object,
                                  CK_ATTRIBUTE_TYPE type);

}  // namespace signet::pkcs11
