// pkcs11_sign_bench: how fast SoftHSM2 signs ECDSA P-256 through each path the
// PKCS#11 backend could take, on this machine. A measurement, not a test: it
// asserts nothing about speed and is not registered with ctest.
//
//   raw      C_SignInit + C_Sign (CKM_ECDSA over a SHA-256 digest), one session per thread
//   libp11   EVP_PKEY_sign on the EVP_PKEY libp11 0.4.12 makes for the same key
//   openssl  EVP_PKEY_sign with a software P-256 key (the ceiling)
//   backend  Pkcs11Backend end to end: queue, sign, format, verify in software
//
//   verify   SignatureVerifier on a P-256 signature (what the backend adds per signature)
//
// The paths are measured in interleaved rounds and the medians printed, so that load
// from other processes on a shared machine falls on all of them alike.
//
// Usage: pkcs11_sign_bench [seconds per measurement, default 1] [rounds, default 3]
#include <libp11.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <thread>
#include <vector>

#include "backends/pkcs11/ck_status.h"
#include "backends/pkcs11/module.h"
#include "backends/pkcs11/pkcs11_backend.h"
#include "signer/ossl.h"
#include "signer/signature.h"
#include "tests/support/softhsm_token.h"

namespace signet::testing {
namespace {

using Clock = std::chrono::steady_clock;

double g_seconds = 1.0;
int g_rounds = 3;

// Runs `sign_one(thread)` in a loop on `threads` threads for g_seconds; signatures/s.
double Rate(int threads, const std::function<bool(int)>& sign_one) {
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      long count = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!sign_one(t)) {
          failed = true;
          break;
        }
        ++count;
      }
      total += count;
    });
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(g_seconds));
  stop = true;
  for (auto& thread : pool) {
    thread.join();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) {
    std::fprintf(stderr, "a signature failed\n");
    std::exit(1);
  }
  return static_cast<double>(total.load()) / elapsed;
}

// Rates per "path/threads", one entry per round.
std::map<std::string, std::vector<double>> g_rates;

void Report(const char* path, int threads, double rate) {
  g_rates[std::string(path) + " " + std::to_string(threads)].push_back(rate);
}

void PrintMedians() {
  for (auto& [name, rates] : g_rates) {
    std::sort(rates.begin(), rates.end());
    std::printf("%-10s thread(s) median %7.0f /s   (min %7.0f, max %7.0f, %zu rounds)\n",
                name.c_str(), rates[rates.size() / 2], rates.front(), rates.back(), rates.size());
  }
}

Bytes Digest() {
  Bytes digest(32);
  RAND_bytes(digest.data(), static_cast<int>(digest.size()));
  return digest;
}

void MeasureRaw(const SoftHsmToken& token, const Bytes& id) {
  auto module = pkcs11::Module::Load(kSoftHsmModule);
  auto slot = (*module)->FindToken(token.label(), "");
  std::vector<pkcs11::Session> sessions;
  for (int t = 0; t < 2; ++t) {
    sessions.push_back(pkcs11::Session::Open(*module, *slot, false).value());
    if (!sessions.back().Login(Secret(token.user_pin())).ok()) {
      std::exit(1);
    }
  }
  CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
  auto found = sessions[0].Find(
      {{CKA_CLASS, &klass, sizeof(klass)}, {CKA_ID, const_cast<uint8_t*>(id.data()), id.size()}});
  CK_OBJECT_HANDLE key = found->front();
  Bytes digest = Digest();
  auto sign = [&](int t) {
    CK_MECHANISM mechanism = {CKM_ECDSA, nullptr, 0};
    CK_FUNCTION_LIST* fn = sessions[t].fn();
    uint8_t signature[64];
    CK_ULONG length = sizeof(signature);
    return fn->C_SignInit(sessions[t].handle(), &mechanism, key) == CKR_OK &&
           fn->C_Sign(sessions[t].handle(), digest.data(), digest.size(), signature, &length) ==
               CKR_OK;
  };
  Report("raw", 1, Rate(1, sign));
  Report("raw", 2, Rate(2, sign));
}

void MeasureLibp11(const SoftHsmToken& token, const Bytes& id) {
  PKCS11_CTX* ctx = PKCS11_CTX_new();
  PKCS11_SLOT* slots = nullptr;
  unsigned int count = 0;
  if (PKCS11_CTX_load(ctx, kSoftHsmModule) != 0 ||
      PKCS11_enumerate_slots(ctx, &slots, &count) != 0) {
    std::exit(1);
  }
  PKCS11_SLOT* slot = PKCS11_find_token(ctx, slots, count);
  PKCS11_KEY* keys = nullptr;
  unsigned int key_count = 0;
  if (slot == nullptr || PKCS11_open_session(slot, 0) != 0 ||
      PKCS11_login(slot, 0, token.user_pin().c_str()) != 0 ||
      PKCS11_enumerate_keys(slot->token, &keys, &key_count) != 0) {
    std::fprintf(stderr, "libp11 could not reach the key\n");
    std::exit(1);
  }
  EVP_PKEY* pkey = nullptr;
  for (unsigned int i = 0; i < key_count; ++i) {
    if (keys[i].id_len == id.size() && std::equal(id.begin(), id.end(), keys[i].id)) {
      pkey = PKCS11_get_private_key(&keys[i]);
    }
  }
  if (pkey == nullptr) {
    std::exit(1);
  }
  Bytes digest = Digest();
  auto sign = [&](int) {
    ossl::PkeyCtxPtr sign_ctx(EVP_PKEY_CTX_new(pkey, nullptr));
    uint8_t signature[80];
    size_t length = sizeof(signature);
    return EVP_PKEY_sign_init(sign_ctx.get()) == 1 &&
           EVP_PKEY_sign(sign_ctx.get(), signature, &length, digest.data(), digest.size()) == 1;
  };
  Report("libp11", 1, Rate(1, sign));
  Report("libp11", 2, Rate(2, sign));
  EVP_PKEY_free(pkey);
  PKCS11_release_all_slots(ctx, slots, count);
  PKCS11_CTX_unload(ctx);
  PKCS11_CTX_free(ctx);
}

void MeasureOpenssl() {
  ossl::PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Bytes digest = Digest();
  auto sign = [&](int) {
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey.get(), nullptr));
    uint8_t signature[80];
    size_t length = sizeof(signature);
    return EVP_PKEY_sign_init(ctx.get()) == 1 &&
           EVP_PKEY_sign(ctx.get(), signature, &length, digest.data(), digest.size()) == 1;
  };
  Report("openssl", 1, Rate(1, sign));

  // What the backend adds per signature: checking it with the public key.
  Bytes signature(80);
  size_t length = signature.size();
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey.get(), nullptr));
  EVP_PKEY_sign_init(ctx.get());
  EVP_PKEY_sign(ctx.get(), signature.data(), &length, digest.data(), digest.size());
  signature.resize(length);
  auto spki = ossl::PublicKeyDer(pkey.get());
  auto verifier = SignatureVerifier::Create(PublicKey{*spki}, Algorithm::kES256);
  SignRequest request{digest, true, SignatureFormat::kDer};
  Report("verify", 1, Rate(1, [&](int) { return verifier->Verify(request, signature).ok(); }));
}

// The backend end to end, with 64 requests in flight per calling thread.
void MeasureBackend(const SoftHsmToken& token, const std::string& ref, size_t workers) {
  Pkcs11Backend::Options options;
  options.module_path = kSoftHsmModule;
  options.token_label = token.label();
  options.pin.file = token.pin_file();
  options.workers = workers;
  auto backend = Pkcs11Backend::Create(options);
  auto key = (*backend)->LoadKey(ref);
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.status().ToString().c_str());
    std::exit(1);
  }
  Bytes digest = Digest();
  auto sign_batch = [&](int) {
    std::vector<std::future<bool>> results;
    for (int i = 0; i < 64; ++i) {
      auto promise = std::make_shared<std::promise<bool>>();
      results.push_back(promise->get_future());
      (*key)->Sign(SignRequest{digest, true, SignatureFormat::kRaw},
                   [promise](StatusOr<Bytes> sig) { promise->set_value(sig.ok()); });
    }
    bool ok = true;
    for (auto& result : results) {
      ok = result.get() && ok;
    }
    return ok;
  };
  Report("backend", static_cast<int>(workers), 64 * Rate(1, sign_batch));
}

int Main(int argc, char** argv) {
  if (argc > 1) {
    g_seconds = std::atof(argv[1]);
  }
  if (argc > 2) {
    g_rounds = std::max(1, std::atoi(argv[2]));
  }
  SoftHsmToken token("bench");
  std::string out;
  if (RunCommand(token.Pkcs11Tool() + " --login --pin " + token.user_pin() +
                     " --keypairgen --key-type EC:prime256v1 --usage-sign --id 0b0e --label bench",
                 &out) != 0) {
    std::fprintf(stderr, "pkcs11-tool --keypairgen failed: %s\n", out.c_str());
    return 1;
  }
  Bytes id = {0x0b, 0x0e};
  std::printf("ECDSA P-256 on SoftHSM2, %.1f s per measurement, %d interleaved rounds, %u cores\n",
              g_seconds, g_rounds, std::thread::hardware_concurrency());
  for (int round = 0; round < g_rounds; ++round) {
    MeasureRaw(token, id);
    MeasureLibp11(token, id);
    MeasureOpenssl();
    MeasureBackend(token, "pkcs11:token=bench;id=%0b%0e", 1);
    MeasureBackend(token, "pkcs11:token=bench;id=%0b%0e", 2);
  }
  PrintMedians();
  return 0;
}

}  // namespace
}  // namespace signet::testing

int main(int argc, char** argv) {
  return signet::testing::Main(argc, argv);
}
