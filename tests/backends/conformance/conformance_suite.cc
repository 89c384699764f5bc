// The backend conformance suite: the same behaviour asked of every backend.
//
// Signatures are checked with the `openssl` command line, not with signet's own
// verification code, so that a bug shared by signer and verifier cannot hide.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "signer/jwk.h"
#include "signer/signature.h"
#include "tests/backends/conformance/backend_fixture.h"
#include "tests/support/openssl_cli.h"

namespace signet::testing {
namespace {

KeySpec SpecFor(Algorithm alg, const std::string& label) {
  KeySpec spec;
  spec.algorithm = alg;
  spec.label = label;
  spec.purpose = Purpose::kJwt;
  return spec;
}

std::string LabelFor(Algorithm alg) {
  std::string label = "conf-" + std::string(AlgorithmName(alg));
  for (char& c : label) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return label;
}

}  // namespace

TEST_CASE("backend generates a key for each of its algorithms and exports its public key",
          "[conformance]") {
  auto fixture = MakeBackendFixture();
  for (Algorithm alg : fixture->algorithms()) {
    INFO("algorithm " << AlgorithmName(alg));
    auto key = fixture->backend().GenerateKey(SpecFor(alg, LabelFor(alg)));
    REQUIRE(key.ok());
    CHECK((*key)->algorithm() == alg);

    auto jwk = PublicKeyToJwk((*key)->public_key(), alg, "kid-1");
    REQUIRE(jwk.ok());
    CHECK(jwk->at("alg").as_string() == AlgorithmName(alg));

    std::string text = OpensslPublicKeyText((*key)->public_key().spki_der);
    switch (FamilyOf(alg)) {
      case KeyFamily::kEc:
        CHECK_THAT(text, Catch::Contains(alg == Algorithm::kES256 ? "prime256v1" : "secp384r1"));
        break;
      case KeyFamily::kEd25519:
        CHECK_THAT(text, Catch::Contains("ED25519"));
        break;
      case KeyFamily::kRsa:
        CHECK_THAT(text, Catch::Contains("2048 bit"));
        break;
    }
  }
}

TEST_CASE("backend signs messages and digests that openssl verifies", "[conformance]") {
  auto fixture = MakeBackendFixture();
  for (Algorithm alg : fixture->algorithms()) {
    INFO("algorithm " << AlgorithmName(alg));
    auto key = fixture->backend().GenerateKey(SpecFor(alg, LabelFor(alg)));
    REQUIRE(key.ok());
    const Bytes& spki = (*key)->public_key().spki_der;
    std::string message = "signet conformance message for " + std::string(AlgorithmName(alg));

    SignRequest by_message{Bytes(message.begin(), message.end()), false, SignatureFormat::kDer};
    auto sig = (*key)->SignAndWait(by_message);
    REQUIRE(sig.ok());
    CHECK(OpensslVerifies(spki, alg, message, *sig));
    CHECK_FALSE(OpensslVerifies(spki, alg, message + "!", *sig));

    if (alg != Algorithm::kEdDSA) {
      auto digest = ComputeDigest(alg, AsBytes(message));
      REQUIRE(digest.ok());
      SignRequest by_digest{*digest, true, SignatureFormat::kDer};
      auto digest_sig = (*key)->SignAndWait(by_digest);
      REQUIRE(digest_sig.ok());
      CHECK(OpensslVerifies(spki, alg, message, *digest_sig));
    }

    if (FamilyOf(alg) == KeyFamily::kEc) {
      SignRequest raw_request{Bytes(message.begin(), message.end()), false, SignatureFormat::kRaw};
      auto raw = (*key)->SignAndWait(raw_request);
      REQUIRE(raw.ok());
      REQUIRE(raw->size() == 2 * EcCoordinateSize(alg));
      auto der = EcdsaRawToDer(*raw);
      REQUIRE(der.ok());
      CHECK(OpensslVerifies(spki, alg, message, *der));
    }
  }
}

TEST_CASE("backend rejects a digest of the wrong size and a digest for an EdDSA key",
          "[conformance]") {
  auto fixture = MakeBackendFixture();
  for (Algorithm alg : fixture->algorithms()) {
    auto key = fixture->backend().GenerateKey(SpecFor(alg, LabelFor(alg)));
    REQUIRE(key.ok());
    SignRequest request{Bytes(20, 0xab), true, SignatureFormat::kRaw};
    auto sig = (*key)->SignAndWait(request);
    REQUIRE_FALSE(sig.ok());
    CHECK(sig.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("backend signs concurrently from 8 threads and every signature is valid",
          "[conformance]") {
  auto fixture = MakeBackendFixture();
  Algorithm alg = fixture->algorithms().front();
  auto key = fixture->backend().GenerateKey(SpecFor(alg, "concurrent"));
  REQUIRE(key.ok());

  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::pair<std::string, Bytes>>> results(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string message = "thread " + std::to_string(t) + " message " + std::to_string(i);
        SignRequest request{Bytes(message.begin(), message.end()), false, SignatureFormat::kDer};
        auto sig = (*key)->SignAndWait(request);
        if (!sig.ok()) {
          failures++;
          continue;
        }
        results[t].emplace_back(message, *sig);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  REQUIRE(failures.load() == 0);

  // openssl is slow to start; verify every signature in-process with OpenSSL, and a
  // sample with the command line.
  for (const auto& per_thread : results) {
    REQUIRE(per_thread.size() == kPerThread);
    for (const auto& [message, sig] : per_thread) {
      SignRequest request{Bytes(message.begin(), message.end()), false, SignatureFormat::kDer};
      REQUIRE(VerifySignature((*key)->public_key(), alg, request, sig).ok());
    }
    CHECK(OpensslVerifies((*key)->public_key().spki_der, alg, per_thread.front().first,
                          per_thread.front().second));
  }
}

TEST_CASE("backend loads a generated key by its reference and it signs with the same key",
          "[conformance]") {
  auto fixture = MakeBackendFixture();
  Algorithm alg = fixture->algorithms().front();
  auto key = fixture->backend().GenerateKey(SpecFor(alg, "reload-me"));
  REQUIRE(key.ok());

  auto again = fixture->backend().LoadKey((*key)->ref());
  REQUIRE(again.ok());
  CHECK((*again)->public_key().spki_der == (*key)->public_key().spki_der);
  std::string message = "loaded by reference";
  SignRequest request{Bytes(message.begin(), message.end()), false, SignatureFormat::kDer};
  auto sig = (*again)->SignAndWait(request);
  REQUIRE(sig.ok());
  CHECK(OpensslVerifies((*key)->public_key().spki_der, alg, message, *sig));
}

TEST_CASE("backend refuses a second key with the same label", "[conformance]") {
  auto fixture = MakeBackendFixture();
  Algorithm alg = fixture->algorithms().front();
  REQUIRE(fixture->backend().GenerateKey(SpecFor(alg, "twice")).ok());
  auto second = fixture->backend().GenerateKey(SpecFor(alg, "twice"));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Code::kAlreadyExists);
}

TEST_CASE("backend reports a missing key as not found", "[conformance]") {
  auto fixture = MakeBackendFixture();
  auto key = fixture->backend().LoadKey(fixture->MissingKeyRef());
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().code() == Code::kNotFound);
}

TEST_CASE("backend destroys a key so that it can no longer be loaded", "[conformance]") {
  auto fixture = MakeBackendFixture();
  Algorithm alg = fixture->algorithms().front();
  auto key = fixture->backend().GenerateKey(SpecFor(alg, "short-lived"));
  REQUIRE(key.ok());
  REQUIRE(fixture->backend().DestroyKey((*key)->ref()).ok());
  auto again = fixture->backend().LoadKey((*key)->ref());
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == Code::kNotFound);
}

TEST_CASE("backend reports its algorithms and parallelism", "[conformance]") {
  auto fixture = MakeBackendFixture();
  Capabilities caps = fixture->backend().capabilities();
  CHECK(caps.max_parallel_signatures >= 1);
  for (Algorithm alg : fixture->algorithms()) {
    CHECK(std::find(caps.algorithms.begin(), caps.algorithms.end(), alg) != caps.algorithms.end());
  }
}

}  // namespace signet::testing
