// The TPM backend's authorization against a real swtpm: wrong values, the
// dictionary-attack lockout, an owner hierarchy with a value, and what each
// session mode lets a listener on the bus see.
//
// The TPM's lockout counter is read with tpm2-tools, and the bus with
// tpm2-tss's pcap TCTI, not with the code under test.
#include "backends/tpm/tpm_backend.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "signer/signature.h"
#include "tests/backends/tpm/tpm_test_util.h"

namespace signet::testing {

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

TEST_CASE("tpm backend keeps the authorization value and the digest off the bus under HMAC",
          "[tpm]") {
  // tpm2-tss's pcap TCTI records every command and response between the backend
  // and swtpm: what a listener on the bus would see.
  const std::string auth = "AuthValue-4f1c9e27";
  const std::string message = "digest that must stay private";
  auto digest = ComputeDigest(Algorithm::kES256, AsBytes(message));
  REQUIRE(digest.ok());
  auto seen_on_bus = [](const std::string& capture, ByteView needle) {
    ByteView bus = AsBytes(capture);
    return std::search(bus.begin(), bus.end(), needle.begin(), needle.end()) != bus.end();
  };

  for (auto session : {TpmBackend::Session::kPassword, TpmBackend::Session::kHmac}) {
    bool hmac = session == TpmBackend::Session::kHmac;
    INFO((hmac ? "HMAC session" : "password session"));
    SwtpmProcess tpm;
    TempDir dir;
    std::string capture_path = dir.path() + "/bus.pcap";
    ::setenv("TCTI_PCAP_FILE", capture_path.c_str(), 1);
    auto options = OptionsFor(tpm, dir, WriteSecretFile(dir, "auth", auth));
    options.tcti = "pcap:" + tpm.tcti();
    options.session = session;
    {
      auto backend = OpenBackend(options);
      auto key = backend->GenerateKey(Spec(Algorithm::kES256, "private"));
      REQUIRE(key.ok());
      auto sig = (*key)->SignAndWait(SignRequest{*digest, true, SignatureFormat::kDer});
      REQUIRE(sig.ok());
    }
    ::unsetenv("TCTI_PCAP_FILE");

    auto capture = ReadFile(capture_path);
    REQUIRE(capture.size() > 100);
    // The password session shows what the capture would catch; the HMAC session hides it.
    CHECK(seen_on_bus(capture, AsBytes(auth)) == !hmac);
    CHECK(seen_on_bus(capture, *digest) == !hmac);
  }
}

}  // namespace signet::testing
