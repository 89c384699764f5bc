#include "backends/pkcs11/module.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstring>
#include <map>
#include <mutex>

#include "backends/pkcs11/ck_status.h"

namespace signet::pkcs11 {

namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}

std::map<std::string, std::weak_ptr<Module>>& Registry() {
  static auto* modules = new std::map<std::string, std::weak_ptr<Module>>();
  return *modules;
}

// PKCS#11 pads fixed-size text fields with spaces.
std::string_view Trimmed(const unsigned char* field, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(field), size);
  size_t end = text.find_last_not_of(' ');
  return end == std::string_view::npos ? std::string_view() : text.substr(0, end + 1);
}

}  // namespace

Module::Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool finalize)
    : path_(std::move(path)), handle_(handle), fn_(fn), finalize_(finalize) {}

Module::~Module() {
  // Under the registry lock: a Load() of the same path waits until the library is
  // finalised, instead of initialising it just before this C_Finalize.
  std::lock_guard<std::mutex> lock(RegistryMutex());
  if (finalize_) {
    fn_->C_Finalize(nullptr);
  }
  ::dlclose(handle_);
}

StatusOr<std::shared_ptr<Module>> Module::Load(const std::string& path) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto& registry = Registry();
  if (auto it = registry.find(path); it != registry.end()) {
    if (std::shared_ptr<Module> module = it->second.lock()) {
      return module;
    }
  }

  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    return Status(Code::kNotFound, "PKCS#11 module '" + path + "' does not exist");
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status(Code::kNotFound, "PKCS#11 module '" + path +
                                       "' cannot be loaded: " + (why != nullptr ? why : "dlopen"));
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  if (get_list == nullptr) {
    ::dlclose(handle);
    return Status(Code::kNotFound,
                  "'" + path + "' is not a PKCS#11 module: it has no C_GetFunctionList");
  }
  CK_FUNCTION_LIST* fn = nullptr;
  CK_RV rv = get_list(&fn);
  if (rv != CKR_OK || fn == nullptr) {
    ::dlclose(handle);
    return CkStatus("C_GetFunctionList(" + path + ")", rv == CKR_OK ? CKR_GENERAL_ERROR : rv);
  }

  CK_C_INITIALIZE_ARGS args;
  std::memset(&args, 0, sizeof(args));
  args.flags = CKF_OS_LOCKING_OK;
  rv = fn->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(handle);
    return CkStatus("C_Initialize(" + path + ")", rv);
  }

  // Someone else in this process initialised the library: leave finalising to them.
  std::shared_ptr<Module> module(new Module(path, handle, fn, rv == CKR_OK));
  registry[path] = module;
  return module;
}

StatusOr<CK_SLOT_ID> Module::FindToken(std::string_view label, std::string_view serial) const {
  CK_ULONG count = 0;
  SIGNET_RETURN_IF_ERROR(CkStatus("C_GetSlotList", fn_->C_GetSlotList(CK_TRUE, nullptr, &count)));
  std::vector<CK_SLOT_ID> slots(count);
  SIGNET_RETURN_IF_ERROR(
      CkStatus("C_GetSlotList", fn_->C_GetSlotList(CK_TRUE, slots.data(), &count)));
  slots.resize(count);

  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info;
    if (fn_->C_GetTokenInfo(slot, &info) != CKR_OK) {
      continue;
    }
    bool match = label.empty() ? Trimmed(info.serialNumber, sizeof(info.serialNumber)) == serial
                               : Trimmed(info.label, sizeof(info.label)) == label;
    if (match) {
      return slot;
    }
  }
  std::string what =
      label.empty() ? "serial '" + std::string(serial) + "'" : "label '" + std::string(label) + "'";
  return Status(Code::kNotFound, "no token with " + what + " in PKCS#11 module '" + path_ + "'");
}

StatusOr<CK_TOKEN_INFO> Module::TokenInfo(CK_SLOT_ID slot) const {
  CK_TOKEN_INFO info;
  SIGNET_RETURN_IF_ERROR(CkStatus("C_GetTokenInfo", fn_->C_GetTokenInfo(slot, &info)));
  return info;
}

bool Module::HasMechanism(CK_SLOT_ID slot, CK_MECHANISM_TYPE mechanism) const {
  CK_MECHANISM_INFO info;
  return fn_->C_GetMechanismInfo(slot, mechanism, &info) == CKR_OK;
}

StatusOr<Session> Session::Open(std::shared_ptr<Module> module, CK_SLOT_ID slot, bool read_write) {
  CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  Session session;
  SIGNET_RETURN_IF_ERROR(
      CkStatus("C_OpenSession",
               module->fn()->C_OpenSession(slot, flags, nullptr, nullptr, &session.handle_)));
  session.module_ = std::move(module);
  return session;
}

Session::~Session() {
  Close();
}

Session::Session(Session&& other) noexcept
    : module_(std::move(other.module_)), handle_(other.handle_) {
  other.handle_ = CK_INVALID_HANDLE;
}

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    Close();
    module_ = std::move(other.module_);
    handle_ = other.handle_;
    other.handle_ = CK_INVALID_HANDLE;
  }
  return *this;
}

void Session::Close() {
  if (handle_ != CK_INVALID_HANDLE && module_) {
    // A session the module already dropped answers CKR_SESSION_HANDLE_INVALID: nothing to do.
    module_->fn()->C_CloseSession(handle_);
  }
  handle_ = CK_INVALID_HANDLE;
}

Status Session::Login(const Secret& pin) {
  std::string_view text = pin.reveal();
  CK_RV rv =
      fn()->C_Login(handle_, CKU_USER,
                    reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(text.data())), text.size());
  if (rv == CKR_USER_ALREADY_LOGGED_IN) {
    return OkStatus();
  }
  return CkStatus("C_Login", rv);
}

StatusOr<std::vector<CK_OBJECT_HANDLE>> Session::Find(std::vector<CK_ATTRIBUTE> attrs,
                                                      size_t limit) {
  SIGNET_RETURN_IF_ERROR(
      CkStatus("C_FindObjectsInit", fn()->C_FindObjectsInit(handle_, attrs.data(), attrs.size())));
  std::vector<CK_OBJECT_HANDLE> found(limit);
  CK_ULONG count = 0;
  CK_RV rv = fn()->C_FindObjects(handle_, found.data(), found.size(), &count);
  CK_RV final_rv = fn()->C_FindObjectsFinal(handle_);
  SIGNET_RETURN_IF_ERROR(CkStatus("C_FindObjects", rv));
  SIGNET_RETURN_IF_ERROR(CkStatus("C_FindObjectsFinal", final_rv));
  found.resize(count);
  return found;
}

StatusOr<Bytes> Session::Attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr = {type, nullptr, 0};
  CK_RV rv = fn()->C_GetAttributeValue(handle_, object, &attr, 1);
  if (rv == CKR_ATTRIBUTE_TYPE_INVALID || attr.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return Status(Code::kNotFound,
                  "C_GetAttributeValue: object has no attribute 0x" + std::to_string(type) + " (" +
                      CkrName(rv) + ")",
                  rv);
  }
  SIGNET_RETURN_IF_ERROR(CkStatus("C_GetAttributeValue", rv));
  Bytes value(attr.ulValueLen);
  attr.pValue = value.data();
  SIGNET_RETURN_IF_ERROR(
      CkStatus("C_GetAttributeValue", fn()->C_GetAttributeValue(handle_, object, &attr, 1)));
  value.resize(attr.ulValueLen);
  return value;
}

Status Session::Destroy(CK_OBJECT_HANDLE object) {
  return CkStatus("C_DestroyObject", fn()->C_DestroyObject(handle_, object));
}

StatusOr<CK_ULONG> UlongAttribute(Session& session, CK_OBJECT_HANDLE object,
                                  CK_ATTRIBUTE_TYPE type) {
  SIGNET_ASSIGN_OR_RETURN(Bytes value, session.Attribute(object, type));
  if (value.size() != sizeof(CK_ULONG)) {
    return Status(Code::kDeviceError, "C_GetAttributeValue: attribute 0x" + std::to_string(type) +
                                          " has " + std::to_string(value.size()) + " bytes");
  }
  CK_ULONG out;
  std::memcpy(&out, value.data(), sizeof(out));
  return out;
}

}  // namespace signet::pkcs11
