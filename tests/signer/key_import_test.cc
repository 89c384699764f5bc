// Keys made outside the catalogue (a config's [[key]] entries) brought under its care.
#include <catch2/catch.hpp>

#include "tests/signer/lifecycle_support.h"

namespace signet::testing {
namespace {

std::string GenerateSoftwareKey(SoftwareBackend& software, const std::string& label) {
  KeySpec spec;
  spec.algorithm = Algorithm::kES256;
  spec.label = label;
  spec.purpose = Purpose::kJwt;
  StatusOr<std::shared_ptr<SigningKey>> key = software.GenerateKey(spec);
  REQUIRE(key.ok());
  return (*key)->ref();
}

std::string SignedKid(Minter& minter) {
  StatusOr<MintedToken> token = minter.MintJwtSvidAndWait(
      Caller{kCaller}, JwtSvidRequest{"spiffe://example.org/workload", {kAudience}, Seconds(60)});
  REQUIRE(token.ok());
  return KidOf(token->token);
}

}  // namespace

TEST_CASE("an imported key signs, and importing it again changes nothing", "[lifecycle]") {
  LifecycleRig rig(KeyManager::Options{});
  ImportedKey configured{"jwt-config", Purpose::kJwt,
                         "software",   GenerateSoftwareKey(rig.software, "jwt-config"),
                         {},           KeyState::kActive};

  StatusOr<std::optional<KeyTransitionRecord>> first = rig.keys->Import(configured, "config");
  REQUIRE_OK(first);
  REQUIRE(first->has_value());
  CHECK((*first)->to == KeyState::kActive);
  CHECK(SignedKid(*rig.minter) == "jwt-config");

  StatusOr<std::optional<KeyTransitionRecord>> again = rig.keys->Import(configured, "config");
  REQUIRE_OK(again);
  CHECK_FALSE(again->has_value());
  CHECK(rig.keys->Snapshot().keys.size() == 1);
}

TEST_CASE("after import the catalogue, not the config, decides a key's state", "[lifecycle]") {
  LifecycleRig rig(KeyManager::Options{});
  ImportedKey configured{"jwt-config", Purpose::kJwt,
                         "software",   GenerateSoftwareKey(rig.software, "jwt-config"),
                         {},           KeyState::kActive};
  REQUIRE_OK(rig.keys->Import(configured, "config"));
  REQUIRE_OK(rig.keys->Rotate(Purpose::kJwt, "custodian"));
  std::string rotated = SignedKid(*rig.minter);
  REQUIRE(rotated != "jwt-config");

  std::unique_ptr<KeyManager> restarted = rig.Reopen();
  REQUIRE_OK(restarted->Import(configured, "config"));  // the config still names it active
  REQUIRE_OK(restarted->Open());
  const KeyRecord* old = restarted->Snapshot().Find("jwt-config");
  REQUIRE(old != nullptr);
  CHECK(old->state == KeyState::kRetired);
  CHECK(SignedKid(*rig.minter) == rotated);
}

TEST_CASE("a second key asked to be active comes in prepared", "[lifecycle]") {
  LifecycleRig rig(KeyManager::Options{});
  REQUIRE_OK(rig.keys->Import({"jwt-a",
                               Purpose::kJwt,
                               "software",
                               GenerateSoftwareKey(rig.software, "jwt-a"),
                               {},
                               KeyState::kActive},
                              "config"));
  StatusOr<std::optional<KeyTransitionRecord>> b =
      rig.keys->Import({"jwt-b",
                        Purpose::kJwt,
                        "software",
                        GenerateSoftwareKey(rig.software, "jwt-b"),
                        {},
                        KeyState::kActive},
                       "config");
  REQUIRE_OK(b);
  CHECK((*b)->to == KeyState::kPrepared);
  CHECK(SignedKid(*rig.minter) == "jwt-a");
}

TEST_CASE("import refuses a key it cannot load and a keyless key that is not a root",
          "[lifecycle]") {
  LifecycleRig rig(KeyManager::Options{});
  StatusOr<std::optional<KeyTransitionRecord>> missing = rig.keys->Import(
      {"jwt-x", Purpose::kJwt, "no-such-backend", "ref", {}, KeyState::kActive}, "config");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("importing key 'jwt-x'"));

  StatusOr<std::optional<KeyTransitionRecord>> keyless =
      rig.keys->Import({"jwt-y", Purpose::kJwt, "", "", {}, KeyState::kActive}, "config");
  REQUIRE_FALSE(keyless.ok());
  CHECK_THAT(keyless.status().message(), Catch::Contains("only a root certificate"));
  CHECK(rig.keys->Snapshot().keys.empty());
}

}  // namespace signet::testing
