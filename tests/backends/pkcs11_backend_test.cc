// The PKCS#11 backend on SoftHSM2, beyond the conformance suite: mixed key types in
// one token, key attributes as the token reports them, recovery from sessions closed
// under the backend, and the errors an operator meets (wrong PIN, bad module path,
// missing token, readable PIN file, malformed URI).
//
// Token contents are inspected with OpenSC's pkcs11-tool and signatures checked
// with the openssl command line, not with the code under test.
#include <dlfcn.h>
#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "backends/pkcs11/pkcs11_backend.h"
#include "signer/signature.h"
#include "tests/support/openssl_cli.h"
#include "tests/support/softhsm_token.h"

namespace signet::testing {
namespace {

Pkcs11Backend::Options OptionsFor(const SoftHsmToken& token, size_t workers = 2) {
  Pkcs11Backend::Options options;
  options.module_path = kSoftHsmModule;
  options.token_label = token.label();
  options.pin.file = token.pin_file();
  options.workers = workers;
  return options;
}

std::unique_ptr<Pkcs11Backend> Open(const SoftHsmToken& token, size_t workers = 2) {
  auto backend = Pkcs11Backend::Create(OptionsFor(token, workers));
  if (!backend.ok()) {
    FAIL("cannot open the SoftHSM token: " << backend.status());
  }
  return std::move(*backend);
}

KeySpec Spec(Algorithm alg, const std::string& label) {
  KeySpec spec;
  spec.algorithm = alg;
  spec.label = label;
  return spec;
}

SignRequest MessageRequest(const std::string& message) {
  return SignRequest{Bytes(message.begin(), message.end()), false, SignatureFormat::kDer};
}

// The flags pkcs11-tool prints on the "Access:" line of the private key labelled
// `label`: "sensitive", "always sensitive", "never extractable", "extractable", ...
std::set<std::string> PrivateKeyAccess(const SoftHsmToken& token, const std::string& label) {
  std::string out;
  int rc = RunCommand(token.Pkcs11Tool() + " --login --pin " + token.user_pin() +
                          " --list-objects --type privkey --label " + label,
                      &out);
  INFO(out);
  REQUIRE(rc == 0);
  size_t at = out.find("Access:");
  REQUIRE(at != std::string::npos);
  std::string line = out.substr(at + 7, out.find('\n', at) - at - 7);
  std::set<std::string> flags;
  size_t begin = line.find_first_not_of(' ');
  while (begin != std::string::npos && begin < line.size()) {
    size_t end = line.find(", ", begin);
    flags.insert(line.substr(begin, end == std::string::npos ? end : end - begin));
    begin = end == std::string::npos ? end : end + 2;
  }
  return flags;
}

// Closes every session of the token from outside the backend, through the module
// instance the backend itself loaded (RTLD_NOLOAD: the same library, not a new one).
void CloseAllSessionsUnderTheBackend(const std::string& label) {
  void* lib = ::dlopen(kSoftHsmModule, RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(lib != nullptr);
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(lib, "C_GetFunctionList"));
  CK_FUNCTION_LIST* fn = nullptr;
  REQUIRE(get_list(&fn) == CKR_OK);

  CK_SLOT_ID slots[8];
  CK_ULONG count = 8;
  REQUIRE(fn->C_GetSlotList(CK_TRUE, slots, &count) == CKR_OK);
  bool closed = false;
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info;
    REQUIRE(fn->C_GetTokenInfo(slots[i], &info) == CKR_OK);
    std::string token_label(reinterpret_cast<char*>(info.label), sizeof(info.label));
    if (token_label.substr(0, token_label.find_last_not_of(' ') + 1) == label) {
      REQUIRE(fn->C_CloseAllSessions(slots[i]) == CKR_OK);
      closed = true;
    }
  }
  ::dlclose(lib);
  REQUIRE(closed);
}

}  // namespace

TEST_CASE("pkcs11 backend keeps Ed25519, EC and RSA keys side by side and signs with each",
          "[softhsm]") {
  SoftHsmToken token("mixed");
  std::map<std::string, Algorithm> refs;
  {
    auto backend = Open(token);
    for (Algorithm alg : kAllAlgorithms) {
      auto key = backend->GenerateKey(Spec(alg, "mixed-" + std::string(AlgorithmName(alg))));
      REQUIRE(key.ok());
      CHECK_THAT((*key)->ref(), Catch::StartsWith("pkcs11:token=mixed;object=mixed-"));
      refs[(*key)->ref()] = alg;
    }
  }

  // A key made by the token's own tooling, found by its id alone.
  std::string out;
  REQUIRE(RunCommand(token.Pkcs11Tool() + " --login --pin " + token.user_pin() +
                         " --keypairgen --key-type EC:prime256v1 --usage-sign --id 0a0b0c"
                         " --label from-tool",
                     &out) == 0);
  refs["pkcs11:token=mixed;id=%0a%0b%0c"] = Algorithm::kES256;

  // A new backend finds every key in a token holding all three families.
  auto backend = Open(token);
  for (const auto& [ref, alg] : refs) {
    INFO(ref);
    auto key = backend->LoadKey(ref);
    REQUIRE(key.ok());
    CHECK((*key)->algorithm() == alg);
    std::string message = "side by side " + ref;
    auto sig = (*key)->SignAndWait(MessageRequest(message));
    REQUIRE(sig.ok());
    CHECK(OpensslVerifies((*key)->public_key().spki_der, alg, message, *sig));
  }
}

TEST_CASE("pkcs11 backend generates private keys the token marks sensitive and not extractable",
          "[softhsm]") {
  SoftHsmToken token("attrs");
  auto backend = Open(token);
  for (Algorithm alg : {Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256}) {
    std::string label = "attrs-" + std::string(AlgorithmName(alg));
    REQUIRE(backend->GenerateKey(Spec(alg, label)).ok());

    std::set<std::string> access = PrivateKeyAccess(token, label);
    INFO(label);
    CHECK(access.count("sensitive") == 1);
    CHECK(access.count("always sensitive") == 1);
    CHECK(access.count("never extractable") == 1);
    CHECK(access.count("extractable") == 0);
  }
}

TEST_CASE("pkcs11 backend recovers from sessions closed under it without failing a request",
          "[softhsm]") {
  SoftHsmToken token("recover");
  auto backend = Open(token, 2);
  auto key = backend->GenerateKey(Spec(Algorithm::kES256, "recover-me"));
  REQUIRE(key.ok());

  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::vector<std::atomic<int>> done(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string message = "recovery " + std::to_string(t) + "/" + std::to_string(i);
        auto sig = (*key)->SignAndWait(MessageRequest(message));
        if (!sig.ok() ||
            !VerifySignature((*key)->public_key(), Algorithm::kES256, MessageRequest(message), *sig)
                 .ok()) {
          failures++;
          errors[t] = sig.status().ToString();
        }
        done[t]++;
      }
    });
  }

  // Both workers are parked between requests before every pull: SoftHSM frees a
  // session's state in C_CloseAllSessions even while another thread is inside C_Sign
  // on it (PKCS#11 leaves concurrent use of one session to the application), so a
  // pull that races a live call crashes the module rather than testing us. The four
  // threads keep queueing requests while the workers are parked.
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  int parked = 0;
  bool gate_open = false;
  std::atomic<int> gate_failures{0};
  auto park_worker = [&] {
    (*key)->Sign(MessageRequest("gate"), [&](StatusOr<Bytes> sig) {
      if (!sig.ok()) {
        gate_failures++;
      }
      std::unique_lock<std::mutex> lock(gate_mu);
      parked++;
      gate_cv.notify_all();
      gate_cv.wait(lock, [&] { return gate_open; });
      parked--;
      gate_cv.notify_all();
    });
  };
  auto wait_parked = [&](int count) {
    std::unique_lock<std::mutex> lock(gate_mu);
    gate_cv.wait(lock, [&] { return parked == count; });
  };

  // Three pulls, each after every thread has finished 40 more requests.
  for (int step = 1; step <= 3; ++step) {
    for (int t = 0; t < kThreads; ++t) {
      while (done[t].load() < std::min(kPerThread, 40 * step)) {
        std::this_thread::yield();
      }
    }
    {
      std::lock_guard<std::mutex> lock(gate_mu);
      gate_open = false;
    }
    park_worker();
    wait_parked(1);
    park_worker();  // only the other worker is free to take it
    wait_parked(2);

    CloseAllSessionsUnderTheBackend(token.label());

    {
      std::lock_guard<std::mutex> lock(gate_mu);
      gate_open = true;
    }
    gate_cv.notify_all();
    wait_parked(0);
  }
  for (auto& thread : threads) {
    thread.join();
  }

  int total = 0;
  for (auto& count : done) {
    total += count.load();
  }
  INFO("first errors: " << errors[0] << " | " << errors[1]);
  CHECK(failures.load() == 0);
  CHECK(gate_failures.load() == 0);
  CHECK(total == kThreads * kPerThread);
  CHECK(backend->sessions_reopened() >= 3);  // at least one per pull

  // The admin session recovers too.
  auto again = backend->LoadKey((*key)->ref());
  REQUIRE(again.ok());
  CHECK((*again)->public_key().spki_der == (*key)->public_key().spki_der);
}

TEST_CASE("pkcs11 backend rejects a wrong PIN once and leaves the PIN unlocked", "[softhsm]") {
  SoftHsmToken token("wrong-pin");
  std::string wrong = token.user_pin() == "11111111" ? "22222222" : "11111111";
  std::string wrong_file = token.dir() + "/wrong.pin";
  ::close(::creat(wrong_file.c_str(), 0600));
  std::ofstream(wrong_file) << wrong << "\n";

  Pkcs11Backend::Options options = OptionsFor(token);
  options.pin.file = wrong_file;
  auto backend = Pkcs11Backend::Create(options);
  REQUIRE_FALSE(backend.ok());
  CHECK(backend.status().code() == Code::kWrongPin);
  CHECK(backend.status().raw_code() == CKR_PIN_INCORRECT);
  CHECK_THAT(backend.status().message(), Catch::Contains("C_Login: CKR_PIN_INCORRECT"));
  CHECK_THAT(backend.status().message(), !Catch::Contains(wrong));

  std::string flags;
  REQUIRE(RunCommand(token.Pkcs11Tool() + " -T", &flags) == 0);
  CHECK_THAT(flags, !Catch::Contains("locked"));
  CHECK_THAT(flags, !Catch::Contains("final try"));
  REQUIRE(Pkcs11Backend::Create(OptionsFor(token)).ok());
}

TEST_CASE("pkcs11 backend names an unknown module path", "[softhsm]") {
  SoftHsmToken token("no-module");
  Pkcs11Backend::Options options = OptionsFor(token);
  options.module_path = token.dir() + "/libno-such-module.so";
  auto backend = Pkcs11Backend::Create(options);
  REQUIRE_FALSE(backend.ok());
  CHECK(backend.status().code() == Code::kNotFound);
  CHECK_THAT(backend.status().message(), Catch::Contains(options.module_path));
}

TEST_CASE("pkcs11 backend names a token that does not exist", "[softhsm]") {
  SoftHsmToken token("present");
  Pkcs11Backend::Options options = OptionsFor(token);
  options.token_label = "absent-token";
  auto backend = Pkcs11Backend::Create(options);
  REQUIRE_FALSE(backend.ok());
  CHECK(backend.status().code() == Code::kNotFound);
  CHECK_THAT(backend.status().message(), Catch::Contains("absent-token"));
}

TEST_CASE("pkcs11 backend refuses a PIN file that others can read", "[softhsm]") {
  SoftHsmToken token("open-pin");
  REQUIRE(::chmod(token.pin_file().c_str(), 0644) == 0);
  auto backend = Pkcs11Backend::Create(OptionsFor(token));
  REQUIRE_FALSE(backend.ok());
  CHECK(backend.status().code() == Code::kInvalidArgument);
  CHECK_THAT(backend.status().message(), Catch::Contains(token.pin_file()));
  CHECK_THAT(backend.status().message(), !Catch::Contains(token.user_pin()));
}

TEST_CASE("pkcs11 backend rejects malformed pkcs11: URIs saying what is wrong", "[softhsm]") {
  SoftHsmToken token("uris");
  auto backend = Open(token);
  const std::pair<std::string, std::string> cases[] = {
      {"pkcs12:object=a", "must start with 'pkcs11:'"},
      {"pkcs11:", "names no attribute"},
      {"pkcs11:object=a;object=b", "'object' appears twice"},
      {"pkcs11:id=%0g", "bad percent escape at '%0g'"},
      {"pkcs11:id=%0", "bad percent escape"},
      {"pkcs11:object=a b", "character ' '"},
      {"pkcs11:colour=red", "unknown or unsupported attribute 'colour'"},
      {"pkcs11:object", "not of the form name=value"},
      {"pkcs11:object=a;type=secret", "type 'secret'"},
      {"pkcs11:object=a?pin-value=1234", "query attributes"},
      {"pkcs11:object=a;", "ends with ';'"},
      {"pkcs11:token=uris", "names neither id nor object"},
      {"pkcs11:object=a;type=public", "type=public"},
  };
  for (const auto& [uri, complaint] : cases) {
    INFO(uri);
    auto key = backend->LoadKey(uri);
    REQUIRE_FALSE(key.ok());
    CHECK(key.status().code() == Code::kInvalidArgument);
    CHECK_THAT(key.status().message(), Catch::Contains(complaint));
  }
  auto elsewhere = backend->LoadKey("pkcs11:token=other;object=a");
  REQUIRE_FALSE(elsewhere.ok());
  CHECK(elsewhere.status().code() == Code::kNotFound);
}

TEST_CASE("pkcs11 backend destroys both the private and the public object", "[softhsm]") {
  SoftHsmToken token("destroy");
  auto backend = Open(token);
  auto key = backend->GenerateKey(Spec(Algorithm::kES256, "doomed"));
  REQUIRE(key.ok());
  auto keep = backend->GenerateKey(Spec(Algorithm::kEdDSA, "kept"));
  REQUIRE(keep.ok());
  std::string list = token.Pkcs11Tool() + " --login --pin " + token.user_pin() + " --list-objects";
  std::string before;
  REQUIRE(RunCommand(list, &before) == 0);
  CHECK_THAT(before, Catch::Contains("label:      doomed"));

  REQUIRE(backend->DestroyKey((*key)->ref()).ok());
  std::string after;
  REQUIRE(RunCommand(list, &after) == 0);
  INFO(after);
  CHECK_THAT(after, !Catch::Contains("doomed"));
  CHECK_THAT(after, Catch::Contains("label:      kept"));

  auto sig = (*key)->SignAndWait(MessageRequest("after destruction"));
  REQUIRE_FALSE(sig.ok());
  CHECK(sig.status().code() == Code::kNotFound);
  CHECK(backend->DestroyKey((*key)->ref()).code() == Code::kNotFound);
}

TEST_CASE("pkcs11 backend sizes its session pool and reports itself as hardware", "[softhsm]") {
  SoftHsmToken token("caps");
  auto backend = Open(token, 3);
  CHECK(backend->session_pool_size() == 3);
  Capabilities caps = backend->capabilities();
  CHECK(caps.max_parallel_signatures == 3);
  CHECK(caps.hardware);
  CHECK(caps.verifies_signatures);
  CHECK(caps.algorithms.size() == std::size(kAllAlgorithms));
}

}  // namespace signet::testing
