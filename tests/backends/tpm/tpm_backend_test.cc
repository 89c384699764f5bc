// The TPM backend against a real swtpm: keys that outlive the process, a TPM
// that restarts under load, wrong authorization values, both session modes.
//
// The TPM's own state (persistent handles, the dictionary-attack counter) is read
// with tpm2-tools, not with the code under test. swtpm serves one connection at a
// time, so the backend is closed before a tool runs.
#include "backends/tpm/tpm_backend.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <regex>
#include <thread>

#include "signer/signature.h"
#include "tests/support/openssl_cli.h"
#include "tests/support/swtpm_process.h"

namespace signet::testing {
namespace {

std::string WriteSecretFile(const TempDir& dir, const std::string& name, const std::string& value) {
  std::string path = dir.Write(name, value);
  ::chmod(path.c_str(), 0600);
  return path;
}

TpmBackend::Options OptionsFor(const SwtpmProcess& tpm, const TempDir& dir,
                               const std::string& auth_file) {
  TpmBackend::Options options;
  options.tcti = tpm.tcti();
  options.key_dir = dir.path();
  options.key_auth.file = auth_file;
  return options;
}

std::unique_ptr<TpmBackend> OpenBackend(const TpmBackend::Options& options) {
  auto backend = TpmBackend::Open(options);
  INFO(backend.status().ToString());
  REQUIRE(backend.ok());
  return std::move(backend).value();
}

KeySpec Spec(Algorithm alg, const std::string& label) {
  KeySpec spec;
  spec.algorithm = alg;
  spec.label = label;
  spec.purpose = Purpose::kX509Ca;
  return spec;
}

SignRequest MessageRequest(const std::string& message) {
  return SignRequest{Bytes(message.begin(), message.end()), false, SignatureFormat::kDer};
}

// Signs `message` and checks the signature with the openssl command line.
void ExpectSignsVerifiably(SigningKey& key, const std::string& message) {
  auto sig = key.SignAndWait(MessageRequest(message));
  INFO(sig.status().ToString());
  REQUIRE(sig.ok());
  CHECK(OpensslVerifies(key.public_key().spki_der, key.algorithm(), message, *sig));
}

uint32_t LockoutCounter(const SwtpmProcess& tpm) {
  std::string text = RunTpm2Tool(tpm, "tpm2_getcap properties-variable");
  std::smatch match;
  REQUIRE(std::regex_search(text, match, std::regex("TPM2_PT_LOCKOUT_COUNTER: (0x[0-9a-fA-F]+)")));
  return static_cast<uint32_t>(std::stoul(match[1].str(), nullptr, 16));
}

// Signs without waiting forever: a request that has not completed in `limit` hung.
StatusOr<Bytes> SignWithin(SigningKey& key, SignRequest request, std::chrono::seconds limit) {
  auto promise = std::make_shared<std::promise<StatusOr<Bytes>>>();
  auto result = promise->get_future();
  key.Sign(std::move(request), [promise](StatusOr<Bytes> sig) { promise->set_value(sig); });
  if (result.wait_for(limit) != std::future_status::ready) {
    FAIL("a TPM signature request did not complete within " << limit.count() << " s");
  }
  return result.get();
}

}  // namespace

TEST_CASE("tpm backend loads a key from its blob file after a restart and signs with it", "[tpm]") {
  SwtpmProcess tpm;
  TempDir dir;
  auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "blob key auth"));

  std::string ref;
  Bytes spki;
  {
    auto backend = OpenBackend(options);
    auto key = backend->GenerateKey(Spec(Algorithm::kES256, "intermediate-1"));
    REQUIRE(key.ok());
    ref = (*key)->ref();
    spki = (*key)->public_key().spki_der;
    ExpectSignsVerifiably(**key, "before the restart");
  }
  CHECK_THAT(ref, Catch::StartsWith("tpm:label=intermediate-1;blob=" + dir.path()));
  struct stat st;
  REQUIRE(::stat((dir.path() + "/intermediate-1.tpmkey").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto backend = OpenBackend(options);
  auto key = backend->LoadKey(ref);
  INFO(key.status().ToString());
  REQUIRE(key.ok());
  CHECK((*key)->public_key().spki_der == spki);
  ExpectSignsVerifiably(**key, "after the restart");
}

TEST_CASE("tpm backend keeps a key at a persistent handle across a restart", "[tpm]") {
  SwtpmProcess tpm;
  TempDir dir;
  auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "persistent key auth"));
  options.storage = TpmBackend::Storage::kPersistentHandle;

  std::string ref;
  Bytes spki;
  {
    auto backend = OpenBackend(options);
    auto key = backend->GenerateKey(Spec(Algorithm::kES384, "root-1"));
    INFO(key.status().ToString());
    REQUIRE(key.ok());
    ref = (*key)->ref();
    spki = (*key)->public_key().spki_der;
  }
  CHECK(ref == "tpm:label=root-1;handle=0x81000010;alg=ES384");
  CHECK_THAT(RunTpm2Tool(tpm, "tpm2_getcap handles-persistent"), Catch::Contains("0x81000010"));

  {
    auto backend = OpenBackend(options);
    auto key = backend->LoadKey(ref);
    INFO(key.status().ToString());
    REQUIRE(key.ok());
    CHECK((*key)->public_key().spki_der == spki);
    ExpectSignsVerifiably(**key, "signed by a persistent key");

    REQUIRE(backend->DestroyKey(ref).ok());
    auto gone = backend->LoadKey(ref);
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.status().code() == Code::kNotFound);
  }
  CHECK_THAT(RunTpm2Tool(tpm, "tpm2_getcap handles-persistent"), !Catch::Contains("0x81000010"));
}

TEST_CASE("tpm backend recovers when swtpm is killed and restarted while it signs", "[tpm]") {
  // Without startup-clear, the restarted TPM needs TPM2_Startup from the backend.
  SwtpmProcess tpm(SwtpmProcess::Options{false});
  TempDir dir;
  auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "restart auth"));
  auto backend = OpenBackend(options);
  auto generated = backend->GenerateKey(Spec(Algorithm::kES256, "survivor"));
  REQUIRE(generated.ok());
  std::shared_ptr<SigningKey> key = *generated;

  std::atomic<bool> stop{false};
  std::atomic<int> signed_ok{0};
  std::atomic<int> unavailable{0};
  std::atomic<int> other_errors{0};
  std::atomic<int> hung{0};
  std::string last_other_error;
  std::mutex mu;
  // Four requests in flight at a time, each with a bounded wait.
  std::vector<std::thread> signers;
  for (int t = 0; t < 4; ++t) {
    signers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        std::string message = "loop " + std::to_string(t) + "/" + std::to_string(i);
        auto promise = std::make_shared<std::promise<StatusOr<Bytes>>>();
        auto result = promise->get_future();
        key->Sign(MessageRequest(message),
                  [promise](StatusOr<Bytes> sig) { promise->set_value(sig); });
        if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
          hung++;
          return;
        }
        StatusOr<Bytes> sig = result.get();
        if (sig.ok()) {
          bool valid =
              VerifySignature(key->public_key(), Algorithm::kES256, MessageRequest(message), *sig)
                  .ok();
          (valid ? signed_ok : other_errors)++;
        } else if (sig.status().code() == Code::kUnavailable && sig.status().retryable()) {
          unavailable++;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          last_other_error = sig.status().ToString();
          other_errors++;
        }
      }
    });
  }

  auto wait_for_signatures = [&](int target) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (signed_ok.load() < target && std::chrono::steady_clock::now() < deadline &&
           hung.load() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  wait_for_signatures(50);
  int before = signed_ok.load();
  tpm.Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  tpm.Start();
  wait_for_signatures(before + 100);
  stop.store(true);
  for (auto& thread : signers) {
    thread.join();
  }

  INFO("signed " << signed_ok.load() << " (" << before << " before the kill), unavailable "
                 << unavailable.load() << ", other errors " << other_errors.load() << " "
                 << last_other_error);
  CHECK(hung.load() == 0);
  CHECK(before >= 50);
  CHECK(signed_ok.load() >= before + 100);
  CHECK(unavailable.load() >= 1);
  CHECK(other_errors.load() == 0);
}

TEST_CASE("tpm backend fails a wrong authorization value with kWrongPin and never retries it",
          "[tpm]") {
  for (auto session : {TpmBackend::Session::kHmac, TpmBackend::Session::kPassword}) {
    INFO((session == TpmBackend::Session::kHmac ? "HMAC session" : "password session"));
    SwtpmProcess tpm;
    TempDir dir;
    auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "right", "the-right-value"));
    options.session = session;
    std::string ref;
    {
      auto backend = OpenBackend(options);
      auto key = backend->GenerateKey(Spec(Algorithm::kES256, "guarded"));
      REQUIRE(key.ok());
      ref = (*key)->ref();
    }
    uint32_t failures_before = LockoutCounter(tpm);

    options.key_auth.file = WriteSecretFile(dir, "wrong", "a-wrong-value");
    {
      auto backend = OpenBackend(options);
      auto key = backend->LoadKey(ref);
      REQUIRE(key.ok());
      for (int attempt = 0; attempt < 3; ++attempt) {
        auto sig = SignWithin(**key, MessageRequest("must not be signed"), std::chrono::seconds(5));
        REQUIRE_FALSE(sig.ok());
        CHECK(sig.status().code() == Code::kWrongPin);
        CHECK_FALSE(sig.status().retryable());
        CHECK_THAT(sig.status().message(),
                   !Catch::Contains("wrong-value") && !Catch::Contains("right-value"));
        if (attempt == 0) {
          CHECK(sig.status().raw_code() == 0x98eu);
          CHECK_THAT(sig.status().message(),
                     Catch::Contains("Esys_Sign: tpm:session(1):") && Catch::Contains("(0x98e)"));
        }
      }
    }
    // Three refused requests, one authorization failure counted by the TPM.
    CHECK(LockoutCounter(tpm) == failures_before + 1);
  }
}

TEST_CASE("tpm backend reports a TPM in dictionary-attack lockout as kPinLocked", "[tpm]") {
  SwtpmProcess tpm;
  TempDir dir;
  auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "right", "right"));
  std::string ref;
  {
    auto backend = OpenBackend(options);
    auto key = backend->GenerateKey(Spec(Algorithm::kES256, "locked-out"));
    REQUIRE(key.ok());
    ref = (*key)->ref();
  }
  options.key_auth.file = WriteSecretFile(dir, "wrong", "wrong");
  auto backend = OpenBackend(options);

  // swtpm allows three failures (TPM2_PT_MAX_AUTH_FAIL); loading the key again
  // is what it takes for the backend to try a rejected value once more.
  Status last;
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto key = backend->LoadKey(ref);
    REQUIRE(key.ok());
    last = SignWithin(**key, MessageRequest("locked"), std::chrono::seconds(5)).status();
  }
  INFO(last.ToString());
  CHECK(last.code() == Code::kPinLocked);
  CHECK(last.raw_code() == 0x921u);
}

TEST_CASE("tpm backend works with an owner hierarchy that has an authorization value", "[tpm]") {
  for (auto session : {TpmBackend::Session::kHmac, TpmBackend::Session::kPassword}) {
    INFO((session == TpmBackend::Session::kHmac ? "HMAC session" : "password session"));
    SwtpmProcess tpm;
    TempDir dir;
    RunTpm2Tool(tpm, "tpm2_changeauth -c owner owner-secret");
    auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "key auth"));
    options.session = session;
    options.storage = TpmBackend::Storage::kPersistentHandle;  // EvictControl needs the owner

    options.owner_auth.file = WriteSecretFile(dir, "bad-owner", "not-the-owner-secret");
    auto refused = TpmBackend::Open(options);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Code::kWrongPin);
    CHECK_THAT(refused.status().message(),
               Catch::Contains("Esys_CreatePrimary(SRK)") && !Catch::Contains("owner-secret"));

    options.owner_auth.file = WriteSecretFile(dir, "owner", "owner-secret");
    auto backend = OpenBackend(options);
    auto key = backend->GenerateKey(Spec(Algorithm::kES256, "owned"));
    INFO(key.status().ToString());
    REQUIRE(key.ok());
    ExpectSignsVerifiably(**key, "signed under an owner with a password");
    CHECK(backend->DestroyKey((*key)->ref()).ok());
  }
}

TEST_CASE("tpm backend reports a TPM that cannot be reached as unavailable", "[tpm]") {
  SwtpmProcess tpm;
  TempDir dir;
  auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "x"));
  tpm.Kill();

  auto backend = TpmBackend::Open(options);
  REQUIRE_FALSE(backend.ok());
  CHECK(backend.status().code() == Code::kUnavailable);
  CHECK(backend.status().raw_code().has_value());
  CHECK_THAT(backend.status().message(), Catch::Contains(tpm.tcti()));
}

TEST_CASE("tpm backend refuses EdDSA as unsupported", "[tpm]") {
  SwtpmProcess tpm;
  TempDir dir;
  auto backend = OpenBackend(OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "x")));

  Capabilities caps = backend->capabilities();
  CHECK(std::find(caps.algorithms.begin(), caps.algorithms.end(), Algorithm::kEdDSA) ==
        caps.algorithms.end());
  CHECK(caps.hardware);
  CHECK(caps.verifies_signatures);

  auto generated = backend->GenerateKey(Spec(Algorithm::kEdDSA, "ed"));
  REQUIRE_FALSE(generated.ok());
  CHECK(generated.status().code() == Code::kUnsupported);
  CHECK_THAT(generated.status().message(), Catch::Contains("Ed25519"));

  auto loaded = backend->LoadKey("tpm:label=ed;blob=" + dir.path() + "/ed.tpmkey;alg=EdDSA");
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == Code::kUnsupported);
}

TEST_CASE("tpm backend signs correctly under a password session and an HMAC session", "[tpm]") {
  for (auto session : {TpmBackend::Session::kPassword, TpmBackend::Session::kHmac}) {
    INFO((session == TpmBackend::Session::kHmac ? "HMAC session" : "password session"));
    SwtpmProcess tpm;
    TempDir dir;
    auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "session test"));
    options.session = session;
    auto backend = OpenBackend(options);
    for (Algorithm alg : {Algorithm::kES256, Algorithm::kPS256}) {
      INFO(AlgorithmName(alg));
      auto key = backend->GenerateKey(Spec(alg, "session-" + std::string(AlgorithmName(alg))));
      INFO(key.status().ToString());
      REQUIRE(key.ok());
      ExpectSignsVerifiably(**key, "signed under a session");

      auto raw = (*key)->SignAndWait(SignRequest{Bytes{'m'}, false, SignatureFormat::kRaw});
      REQUIRE(raw.ok());
      if (alg == Algorithm::kES256) {
        CHECK(raw->size() == 64);
      }
    }
  }
}

TEST_CASE("tpm backend makes an RSA 3072 key where the TPM offers it", "[tpm]") {
  SwtpmProcess tpm;
  TempDir dir;
  auto backend = OpenBackend(OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", "rsa")));
  KeySpec spec = Spec(Algorithm::kRS256, "rsa-3072");
  spec.rsa_bits = 3072;
  auto key = backend->GenerateKey(spec);
  INFO(key.status().ToString());
  // swtpm (libtpms) has RSA 3072; a TPM without it must say kUnsupported.
  REQUIRE(key.ok());
  CHECK_THAT(OpensslPublicKeyText((*key)->public_key().spki_der), Catch::Contains("3072 bit"));
  ExpectSignsVerifiably(**key, "a 3072-bit signature");
}

}  // namespace signet::testing
