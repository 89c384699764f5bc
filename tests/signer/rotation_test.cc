// Key rotation with overlap, on a fake clock, with tokens checked by PyJWT.
#include "signer/rotation.h"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "tests/signer/lifecycle_support.h"

namespace signet::testing {
namespace {

constexpr Seconds kLifetime{600};  // L
constexpr Seconds kTokenTtl{120};

KeyManager::Options JwtRotation() {
  KeyManager::Options options;
  options.rotation[Purpose::kJwt] = RotationRule{kLifetime, Algorithm::kES256, "software"};
  options.max_credential_ttl = kTokenTtl;
  return options;
}

MintedToken MintSvid(Minter& minter) {
  StatusOr<MintedToken> token = minter.MintJwtSvidAndWait(
      Caller{kCaller}, JwtSvidRequest{"spiffe://example.org/workload", {kAudience}, kTokenTtl});
  REQUIRE(token.ok());
  return *token;
}

std::string Jwks(const Minter& minter) {
  StatusOr<std::string> jwks = minter.JwksJson();
  REQUIRE(jwks.ok());
  return *jwks;
}

std::vector<std::string> JwksKids(const Minter& minter) {
  std::vector<std::string> kids;
  boost::json::value jwks = boost::json::parse(Jwks(minter));
  for (const auto& k : jwks.at("keys").as_array()) {
    kids.emplace_back(k.at("kid").as_string());
  }
  return kids;
}

const KeyRecord& Record(const Catalogue& c, const std::string& kid) {
  const KeyRecord* k = c.Find(kid);
  REQUIRE(k != nullptr);
  return *k;
}

std::string ActiveKid(const KeyManager& keys, Purpose purpose) {
  for (const KeyRecord& k : keys.Snapshot().keys) {
    if (k.purpose == purpose && k.state == KeyState::kActive && k.ca_role != CaRole::kRoot) {
      return k.kid;
    }
  }
  return "";
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_CASE("rotation rule prepares at L/2 and activates at L/6 remaining", "[lifecycle]") {
  RotationRule rule{kLifetime, Algorithm::kES256, "software"};
  TimePoint end = TestEpoch() + kLifetime;

  CHECK(NextRotationStep(rule, std::nullopt, false, TestEpoch()) == RotationStep::kActivate);
  CHECK(NextRotationStep(rule, end, false, end - Seconds(301)) == RotationStep::kNone);
  CHECK(NextRotationStep(rule, end, false, end - Seconds(300)) == RotationStep::kPrepare);
  CHECK(NextRotationStep(rule, end, true, end - Seconds(300)) == RotationStep::kNone);
  CHECK(NextRotationStep(rule, end, true, end - Seconds(101)) == RotationStep::kNone);
  CHECK(NextRotationStep(rule, end, true, end - Seconds(100)) == RotationStep::kActivate);
  CHECK(NextRotationStep(rule, end, false, end - Seconds(100)) == RotationStep::kActivate);
}

TEST_CASE("key manager ticks prepare the next key at L/2 and activate it at L/6", "[lifecycle]") {
  LifecycleRig rig(JwtRotation());
  REQUIRE_OK(rig.keys->Open());

  auto first = rig.keys->Tick();
  REQUIRE(first.ok());
  REQUIRE(first->size() == 2);  // bootstrap: prepared, then activated
  std::string k1 = ActiveKid(*rig.keys, Purpose::kJwt);
  REQUIRE(!k1.empty());
  CHECK(Record(rig.keys->Snapshot(), k1).not_after == TestEpoch() + kLifetime);

  rig.clock->Set(TestEpoch() + Seconds(299));
  REQUIRE(rig.keys->Tick()->empty());
  CHECK(JwksKids(*rig.minter).size() == 1);

  rig.clock->Set(TestEpoch() + Seconds(300));  // L/2 remaining
  auto prepared = rig.keys->Tick();
  REQUIRE(prepared.ok());
  REQUIRE(prepared->size() == 1);
  std::string k2 = prepared->front().kid;
  CHECK(prepared->front().to == KeyState::kPrepared);
  CHECK(prepared->front().by == "signet/rotation");
  CHECK(Contains(JwksKids(*rig.minter), k2));  // published before it signs
  CHECK(KidOf(MintSvid(*rig.minter).token) == k1);

  rig.clock->Set(TestEpoch() + Seconds(499));
  REQUIRE(rig.keys->Tick()->empty());

  rig.clock->Set(TestEpoch() + Seconds(500));  // L/6 remaining
  auto activated = rig.keys->Tick();
  REQUIRE(activated.ok());
  REQUIRE(activated->size() == 2);
  CHECK(activated->at(0).kid == k1);
  CHECK(activated->at(0).to == KeyState::kRetired);
  CHECK(activated->at(1).kid == k2);
  CHECK(activated->at(1).to == KeyState::kActive);
  CHECK(KidOf(MintSvid(*rig.minter).token) == k2);
}

TEST_CASE("a full key cycle keeps old tokens verifiable until they expire", "[lifecycle]") {
  KeyManager::Options options = JwtRotation();
  options.destroy_expired_keys = true;
  LifecycleRig rig(options);
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  std::string k1 = ActiveKid(*rig.keys, Purpose::kJwt);

  // prepare
  auto generated = rig.keys->Generate(Purpose::kJwt, Algorithm::kES384, "software", "alice");
  REQUIRE(generated.ok());
  std::string k2 = generated->kid;
  CHECK(generated->by == "alice");
  CHECK(Contains(JwksKids(*rig.minter), k2));
  MintedToken old_token = MintSvid(*rig.minter);
  CHECK(KidOf(old_token.token) == k1);

  // activate: the old key retires and stays published
  rig.clock->Advance(Seconds(10));
  auto activated = rig.keys->Activate(k2, "alice");
  REQUIRE(activated.ok());
  MintedToken new_token = MintSvid(*rig.minter);
  CHECK(KidOf(new_token.token) == k2);
  Catalogue c = rig.keys->Snapshot();
  CHECK(Record(c, k1).state == KeyState::kRetired);
  CHECK(Record(c, k1).TimeOf(KeyState::kRetired) == TestEpoch() + Seconds(10));
  CHECK(Record(c, k2).state == KeyState::kActive);

  int64_t now = UnixSeconds(rig.clock->Now());
  std::string overlap_jwks = Jwks(*rig.minter);
  CHECK(PyJwtFailures({{old_token.token, overlap_jwks, now, "old token during overlap"},
                       {new_token.token, overlap_jwks, now, "new token"}})
            .empty());

  // once everything k1 signed has expired, Tick drops and destroys it
  rig.clock->Advance(kTokenTtl + Seconds(1));
  auto dropped = rig.keys->Tick();
  REQUIRE(dropped.ok());
  REQUIRE(dropped->size() == 1);
  CHECK(dropped->front().kid == k1);
  CHECK(dropped->front().to == KeyState::kDestroyed);
  CHECK(!Contains(JwksKids(*rig.minter), k1));
  CHECK(!rig.software.LoadKey(Record(rig.keys->Snapshot(), k1).backend_ref).ok());

  // PyJWT now refuses the old token for want of its key (it would also be expired)
  auto failures = PyJwtFailures({{old_token.token, Jwks(*rig.minter),
                                  UnixSeconds(old_token.audit.issued_at), "old token after"}});
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("not in the JWKS") != std::string::npos);
}

TEST_CASE("the JWKS never lacks the key of an unexpired token across rotations", "[lifecycle]") {
  KeyManager::Options options = JwtRotation();
  options.destroy_expired_keys = true;
  LifecycleRig rig(options);
  REQUIRE_OK(rig.keys->Open());

  struct Issued {
    std::string token;
    int64_t exp;
  };
  std::vector<Issued> issued;
  std::vector<JwtCheck> checks;
  std::set<std::string> kids_seen;
  const Seconds step(25);
  for (TimePoint t = TestEpoch(); t <= TestEpoch() + 2 * kLifetime; t += step) {
    rig.clock->Set(t);
    REQUIRE_OK(rig.keys->Tick());
    std::string jwks = Jwks(*rig.minter);
    MintedToken token = MintSvid(*rig.minter);
    kids_seen.insert(KidOf(token.token));
    issued.push_back({token.token, UnixSeconds(token.audit.expires_at)});
    for (size_t i = 0; i < issued.size(); ++i) {
      if (issued[i].exp > UnixSeconds(t)) {
        checks.push_back({issued[i].token, jwks, UnixSeconds(t),
                          "token " + std::to_string(i) + " at t+" +
                              std::to_string(UnixSeconds(t) - UnixSeconds(TestEpoch()))});
      }
    }
  }
  CHECK(kids_seen.size() >= 3);  // at least two rotations happened
  CHECK(checks.size() > issued.size() * 3);
  std::vector<std::string> failures = PyJwtFailures(checks);
  INFO((failures.empty() ? std::string() : failures.front()));
  CHECK(failures.empty());
}

TEST_CASE("destroy is refused while signed credentials are valid, allowed with force",
          "[lifecycle]") {
  LifecycleRig rig(JwtRotation());
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  std::string k1 = ActiveKid(*rig.keys, Purpose::kJwt);
  MintSvid(*rig.minter);

  auto active = rig.keys->Destroy(k1, true, "alice");
  REQUIRE(!active.ok());
  CHECK(active.status().message().find("retire it") != std::string::npos);

  REQUIRE_OK(rig.keys->Rotate(Purpose::kJwt, "alice"));
  rig.clock->Advance(Seconds(60));
  auto early = rig.keys->Destroy(k1, false, "alice");
  REQUIRE(!early.ok());
  CHECK(early.status().code() == Code::kFailedPrecondition);
  CHECK(early.status().message().find("force") != std::string::npos);
  CHECK(Record(rig.keys->Snapshot(), k1).state == KeyState::kRetired);

  auto forced = rig.keys->Destroy(k1, true, "alice");
  REQUIRE(forced.ok());
  CHECK(forced->from == KeyState::kRetired);
  CHECK(forced->to == KeyState::kDestroyed);
  CHECK(forced->reason == "forced");
  CHECK(Record(rig.keys->Snapshot(), k1).state == KeyState::kDestroyed);
  CHECK(!Contains(JwksKids(*rig.minter), k1));
}

TEST_CASE("destroy is allowed without force once signed credentials expired", "[lifecycle]") {
  LifecycleRig rig(JwtRotation());
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  std::string k1 = ActiveKid(*rig.keys, Purpose::kJwt);
  MintedToken token = MintSvid(*rig.minter);
  REQUIRE_OK(rig.keys->Retire(k1, "alice"));

  rig.clock->Set(token.audit.expires_at);
  auto destroyed = rig.keys->Destroy(k1, false, "alice");
  REQUIRE(destroyed.ok());
  CHECK(destroyed->at == token.audit.expires_at);
}

TEST_CASE("retired key stays published while a token longer than the bound is valid",
          "[lifecycle]") {
  KeyManager::Options options = JwtRotation();
  options.max_credential_ttl = Seconds(30);  // shorter than the token: only NoteIssued knows
  LifecycleRig rig(options);
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  std::string k1 = ActiveKid(*rig.keys, Purpose::kJwt);
  MintedToken token = MintSvid(*rig.minter);
  REQUIRE_OK(rig.keys->Rotate(Purpose::kJwt, "alice"));

  rig.clock->Advance(kTokenTtl - Seconds(1));
  REQUIRE_OK(rig.keys->Tick());
  CHECK(Contains(JwksKids(*rig.minter), k1));
  CHECK(Record(rig.keys->Snapshot(), k1).latest_signed_expiry == token.audit.expires_at);

  rig.clock->Advance(Seconds(1));
  REQUIRE_OK(rig.keys->Tick());
  CHECK(!Contains(JwksKids(*rig.minter), k1));
}

TEST_CASE("bundle sequence increases at each key change and only then", "[lifecycle]") {
  LifecycleRig rig(JwtRotation());
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  auto sequence = [&] {
    StatusOr<std::string> bundle = rig.minter->SpiffeBundleJson();
    REQUIRE(bundle.ok());
    return boost::json::parse(*bundle).at("spiffe_sequence").to_number<uint64_t>();
  };
  uint64_t s1 = sequence();
  CHECK(sequence() == s1);

  auto prepared = rig.keys->Generate(Purpose::kJwt, Algorithm::kES256, "software", "alice");
  REQUIRE(prepared.ok());
  uint64_t s2 = sequence();
  CHECK(s2 > s1);
  REQUIRE_OK(rig.keys->Tick());
  CHECK(sequence() == s2);  // nothing changed
  REQUIRE_OK(rig.keys->Activate(prepared->kid, "alice"));
  uint64_t s3 = sequence();
  CHECK(s3 > s2);
  REQUIRE_OK(rig.keys->Rotate(Purpose::kJwt, "alice"));
  CHECK(sequence() > s3);
}

TEST_CASE("a restarted key manager loads its keys and signs with the same kid", "[lifecycle]") {
  LifecycleRig rig(JwtRotation());
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  std::string k1 = ActiveKid(*rig.keys, Purpose::kJwt);
  REQUIRE_OK(rig.keys->Generate(Purpose::kJwt, Algorithm::kES256, "software", "alice"));
  std::string before = Jwks(*rig.minter);

  rig.keys = rig.Reopen();
  rig.minter->SetKeys(KeySet{});
  REQUIRE_OK(rig.keys->Open());
  CHECK(Jwks(*rig.minter) == before);
  CHECK(KidOf(MintSvid(*rig.minter).token) == k1);
}

TEST_CASE("explicit operations refuse keys in the wrong state", "[lifecycle]") {
  LifecycleRig rig(JwtRotation());
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  std::string k1 = ActiveKid(*rig.keys, Purpose::kJwt);

  CHECK(rig.keys->Activate(k1, "alice").status().code() == Code::kFailedPrecondition);
  CHECK(rig.keys->Activate("nope", "alice").status().code() == Code::kNotFound);
  REQUIRE_OK(rig.keys->Retire(k1, "alice"));
  CHECK(rig.keys->Retire(k1, "alice").status().code() == Code::kFailedPrecondition);
  CHECK(rig.minter
            ->MintJwtSvidAndWait(Caller{kCaller},
                                 JwtSvidRequest{"spiffe://example.org/w", {kAudience}})
            .status()
            .code() == Code::kFailedPrecondition);  // nothing signs after retiring the only key
  CHECK(rig.keys->Generate(Purpose::kJwt, Algorithm::kES256, "nowhere", "alice").status().code() ==
        Code::kNotFound);
}

}  // namespace
}  // namespace signet::testing
