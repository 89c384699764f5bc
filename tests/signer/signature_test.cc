#include "signer/signature.h"

#include <catch2/catch.hpp>

namespace signet {

TEST_CASE("ECDSA raw and DER encodings convert both ways and keep leading zeros", "[signature]") {
  Bytes raw(64, 0);
  raw[31] = 1;     // r = 1: DER drops the padding
  raw[32] = 0x80;  // s has its high bit set: DER adds a zero byte
  raw[63] = 7;
  auto der = EcdsaRawToDer(raw);
  REQUIRE(der.ok());
  CHECK((*der)[0] == 0x30);
  auto back = EcdsaDerToRaw(*der, 32);
  REQUIRE(back.ok());
  CHECK(*back == raw);
}

TEST_CASE("ECDSA DER with trailing bytes or too-large components is refused", "[signature]") {
  Bytes raw(64, 0x11);
  auto der = EcdsaRawToDer(raw);
  REQUIRE(der.ok());
  Bytes trailing = *der;
  trailing.push_back(0);
  CHECK(EcdsaDerToRaw(trailing, 32).status().code() == Code::kInvalidArgument);
  CHECK(EcdsaDerToRaw(*EcdsaRawToDer(Bytes(96, 0x22)), 32).status().code() ==
        Code::kInvalidArgument);
}

TEST_CASE("sign requests are checked against the key's algorithm", "[signature]") {
  SignRequest digest{Bytes(32, 1), true, SignatureFormat::kRaw};
  CHECK(CheckSignRequest(Algorithm::kES256, digest).ok());
  CHECK(CheckSignRequest(Algorithm::kES384, digest).code() == Code::kInvalidArgument);
  auto eddsa = CheckSignRequest(Algorithm::kEdDSA, digest);
  CHECK(eddsa.code() == Code::kInvalidArgument);
  CHECK_THAT(eddsa.message(), Catch::Contains("EdDSA"));
}

TEST_CASE("algorithm names parse back and an unknown name lists the accepted ones", "[algorithm]") {
  for (Algorithm alg : kAllAlgorithms) {
    auto parsed = ParseAlgorithm(AlgorithmName(alg));
    REQUIRE(parsed.ok());
    CHECK(*parsed == alg);
  }
  auto bad = ParseAlgorithm("HS256");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("HS256") && Catch::Contains("ES256"));
}

}  // namespace signet
