// RAII owners for the tpm2-tss objects the TPM backend holds.
//
// TctiContext owns a TCTI built by Tss2_TctiLdr_Initialize; EsysContext owns an
// ESAPI context; EsysBuffer owns a structure ESAPI allocated for an output
// parameter; EsysObject owns one ESYS_TR (a loaded key, a session, or the
// metadata ESAPI keeps for a persistent handle). Nothing in backends/tpm calls
// Esys_Free, Esys_FlushContext, Esys_TR_Close or Esys_Finalize by hand.
//
// Lifetime: an EsysObject refers to the EsysContext owner it was made with, which
// must outlive it. When that context has been finalized in the meantime (the
// connection to the TPM was lost), the object is dropped without a call: the
// TPM's copy is gone and Esys_Finalize freed ESAPI's metadata.
//
// Thread safety: none; these objects live on the TPM backend's single worker.
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <memory>
#include <utility>

namespace signet::tpm {

struct TctiDeleter {
  void operator()(TSS2_TCTI_CONTEXT* tcti) const { Tss2_TctiLdr_Finalize(&tcti); }
};
using TctiContext = std::unique_ptr<TSS2_TCTI_CONTEXT, TctiDeleter>;

struct EsysContextDeleter {
  void operator()(ESYS_CONTEXT* ctx) const { Esys_Finalize(&ctx); }
};
using EsysContext = std::unique_ptr<ESYS_CONTEXT, EsysContextDeleter>;

struct EsysFreeDeleter {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using EsysBuffer = std::unique_ptr<T, EsysFreeDeleter>;

// One ESYS_TR. A transient object or session is flushed from the TPM when the
// owner dies; a persistent object only has ESAPI's metadata closed, since the key
// itself must stay in the TPM's NV memory.
class EsysObject {
 public:
  enum class Release { kFlush, kClose };

  EsysObject() = default;
  EsysObject(const EsysContext& owner, ESYS_TR handle, Release release)
      : owner_(&owner), ctx_(owner.get()), handle_(handle), release_(release) {}
  EsysObject(EsysObject&& other) noexcept { *this = std::move(other); }
  EsysObject& operator=(EsysObject&& other) noexcept {
    if (this != &other) {
      Reset();
      owner_ = std::exchange(other.owner_, nullptr);
      ctx_ = std::exchange(other.ctx_, nullptr);
      handle_ = std::exchange(other.handle_, ESYS_TR_NONE);
      release_ = other.release_;
    }
    return *this;
  }
  EsysObject(const EsysObject&) = delete;
  EsysObject& operator=(const EsysObject&) = delete;
  ~EsysObject() { Reset(); }

  ESYS_TR get() const { return handle_; }
  explicit operator bool() const { return handle_ != ESYS_TR_NONE; }

  // Flushes (or closes) the handle now; errors are ignored, there is nothing left to do.
  void Reset() {
    bool context_alive = owner_ != nullptr && owner_->get() == ctx_ && ctx_ != nullptr;
    if (context_alive && handle_ != ESYS_TR_NONE) {
      if (release_ == Release::kFlush) {
        Esys_FlushContext(ctx_, handle_);
      } else {
        Esys_TR_Close(ctx_, &handle_);
      }
    }
    owner_ = nullptr;
    ctx_ = nullptr;
    handle_ = ESYS_TR_NONE;
  }

  // Drops the handle without touching the TPM (its connection is gone).
  void Forget() {
    owner_ = nullptr;
    ctx_ = nullptr;
    handle_ = ESYS_TR_NONE;
  }

 private:
  const EsysContext* owner_ = nullptr;
  ESYS_CONTEXT* ctx_ = nullptr;
  ESYS_TR handle_ = ESYS_TR_NONE;
  Release release_ = Release::kFlush;
};

}  // namespace signet::tpm
