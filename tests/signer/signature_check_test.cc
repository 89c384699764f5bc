#include "signer/signature_check.h"

#include <openssl/evp.h>

#include <catch2/catch.hpp>

#include "signer/ossl.h"

namespace signet {
namespace {

// A key made in this process, a digest and a good DER signature over it.
struct Signed {
  SignatureVerifier verifier;
  SignRequest request;
  Bytes good;
  Bytes bad;  // the good signature with one byte of s changed: same size, does not verify
};

Signed MakeSigned(ossl::PkeyPtr key, Algorithm alg) {
  REQUIRE(key);
  auto spki = ossl::PublicKeyDer(key.get());
  REQUIRE(spki.ok());
  auto verifier = SignatureVerifier::Create(PublicKey{*spki}, alg);
  REQUIRE(verifier.ok());

  SignRequest request{Bytes(32, 0x5a), true, SignatureFormat::kDer};
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  REQUIRE(EVP_PKEY_sign_init(ctx.get()) == 1);
  if (FamilyOf(alg) == KeyFamily::kRsa) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1);
  }
  size_t size = 0;
  REQUIRE(EVP_PKEY_sign(ctx.get(), nullptr, &size, request.input.data(), 32) == 1);
  Bytes good(size);
  REQUIRE(EVP_PKEY_sign(ctx.get(), good.data(), &size, request.input.data(), 32) == 1);
  good.resize(size);

  Bytes bad = good;
  bad[bad.size() - 2] ^= 0x01;
  return Signed{std::move(*verifier), std::move(request), std::move(good), std::move(bad)};
}

Signed MakeEcdsa() {
  return MakeSigned(ossl::PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")),
                    Algorithm::kES256);
}

}  // namespace

TEST_CASE("the first ECDSA signature of a key is always verified", "[signature_check]") {
  Signed s = MakeEcdsa();
  SignatureCheck check(s.verifier, CheckRate{1000000});

  Status first = check.Check(s.request, s.bad);

  CHECK(first.code() == Code::kDeviceError);
  CHECK(check.verified() == 1);
}

TEST_CASE("at a rate of one in one every ECDSA signature is verified", "[signature_check]") {
  Signed s = MakeEcdsa();
  SignatureCheck check(s.verifier, CheckRate{1});

  REQUIRE(check.Check(s.request, s.good).ok());
  for (int i = 0; i < 50; ++i) {
    CHECK(check.Check(s.request, s.bad).code() == Code::kDeviceError);
  }
  CHECK(check.verified() == 51);
}

TEST_CASE("ECDSA signatures are verified at about the configured rate", "[signature_check]") {
  Signed s = MakeEcdsa();
  SignatureCheck check(s.verifier, CheckRate{32});

  for (int i = 0; i < 32000; ++i) {
    REQUIRE(check.Check(s.request, s.good).ok());
  }

  // Binomial(32,000, 1/32): mean 1,000, standard deviation about 31.
  CHECK(check.verified() > 800);
  CHECK(check.verified() < 1200);
}

TEST_CASE("after a failed check the next thousand ECDSA signatures are all verified",
          "[signature_check]") {
  Signed s = MakeEcdsa();
  SignatureCheck check(s.verifier, CheckRate{1000000});
  REQUIRE(check.Check(s.request, s.bad).code() == Code::kDeviceError);

  for (uint64_t i = 0; i < SignatureCheck::kStrictAfterFailure; ++i) {
    REQUIRE(check.Check(s.request, s.good).ok());
  }
  CHECK(check.verified() == 1 + SignatureCheck::kStrictAfterFailure);

  for (int i = 0; i < 1000; ++i) {
    REQUIRE(check.Check(s.request, s.good).ok());
  }
  CHECK(check.verified() < 1 + SignatureCheck::kStrictAfterFailure + 10);
}

TEST_CASE("RSA signatures are verified whatever the ECDSA rate", "[signature_check]") {
  Signed s = MakeSigned(ossl::PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})),
                        Algorithm::kRS256);
  SignatureCheck check(s.verifier, CheckRate{1000000});

  for (int i = 0; i < 20; ++i) {
    REQUIRE(check.Check(s.request, s.good).ok());
  }
  CHECK(check.Check(s.request, s.bad).code() == Code::kDeviceError);
  CHECK(check.verified() == 21);
}

TEST_CASE("an ECDSA signature of the wrong size is refused even when not verified",
          "[signature_check]") {
  Signed s = MakeEcdsa();
  SignatureCheck check(s.verifier, CheckRate{1000000});
  SignRequest raw = s.request;
  raw.format = SignatureFormat::kRaw;
  REQUIRE(check.Check(s.request, s.good).ok());

  Status short_signature = check.Check(raw, Bytes(63, 1));

  CHECK(short_signature.code() == Code::kDeviceError);
  CHECK(check.verified() == 1);
}

}  // namespace signet
