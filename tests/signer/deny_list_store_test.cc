// Terminating identities: the persistent deny list and the Minter honouring it.
#include "signer/deny_list_store.h"

#include <catch2/catch.hpp>

#include "tests/signer/lifecycle_support.h"

namespace signet::testing {
namespace {

constexpr const char* kAgent = "spiffe://example.org/agent/refunds";

KeyManager::Options JwtKeys() {
  KeyManager::Options options;
  options.rotation[Purpose::kJwt] = RotationRule{Seconds(3600), Algorithm::kES256, "software"};
  return options;
}

StatusOr<MintedToken> AgentToken(Minter& minter, std::vector<Actor> actors) {
  return minter.MintAccessTokenAndWait(
      Caller{kCaller},
      AccessTokenRequest{"user:smith", {kAudience}, "support-app", std::move(actors), "", {}});
}

TEST_CASE("a denied subject is refused on the very next request", "[lifecycle]") {
  LifecycleRig rig(JwtKeys());
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  auto store = DenyListStore::Open(rig.state.path(), rig.deny);
  REQUIRE(store.ok());

  JwtSvidRequest request{kAgent, {kAudience}, Seconds(60)};
  REQUIRE_OK(rig.minter->MintJwtSvidAndWait(Caller{kCaller}, request));
  REQUIRE_OK((*store)->Add(kAgent, "agent compromised", "alice", rig.clock->Now()));

  auto refused = rig.minter->MintJwtSvidAndWait(Caller{kCaller}, request);
  REQUIRE(!refused.ok());
  CHECK(refused.status().code() == Code::kPermissionDenied);
  CHECK(refused.status().message().find(kAgent) != std::string::npos);

  REQUIRE_OK((*store)->Remove(kAgent));
  CHECK(rig.minter->MintJwtSvidAndWait(Caller{kCaller}, request).ok());
}

TEST_CASE("a denied actor is refused anywhere inside an act chain", "[lifecycle]") {
  LifecycleRig rig(JwtKeys());
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->Tick());
  auto store = DenyListStore::Open(rig.state.path(), rig.deny);
  REQUIRE(store.ok());

  std::vector<Actor> chain = {{"spiffe://example.org/agent/planner", ""}, {kAgent, ""}};
  REQUIRE_OK(AgentToken(*rig.minter, chain));
  REQUIRE_OK((*store)->Add(kAgent, "", "alice", rig.clock->Now()));

  auto nested = AgentToken(*rig.minter, chain);  // the denied agent is the first actor
  REQUIRE(!nested.ok());
  CHECK(nested.status().code() == Code::kPermissionDenied);
  CHECK(nested.status().message().find("actor") != std::string::npos);
  CHECK(!AgentToken(*rig.minter, {{kAgent, ""}}).ok());
  CHECK(AgentToken(*rig.minter, {{"spiffe://example.org/agent/planner", ""}}).ok());

  REQUIRE_OK((*store)->Add("user:smith", "left the company", "alice", rig.clock->Now()));
  CHECK(AgentToken(*rig.minter, {}).status().code() == Code::kPermissionDenied);
}

TEST_CASE("the deny list survives a reload with reasons and authors", "[lifecycle]") {
  TempDir state;
  {
    auto store = DenyListStore::Open(state.path(), std::make_shared<DenyList>());
    REQUIRE(store.ok());
    REQUIRE_OK((*store)->Add(kAgent, "compromised", "alice", TestEpoch()));
    REQUIRE_OK((*store)->Add("user:smith", "", "bob", TestEpoch() + Seconds(5)));
    CHECK((*store)->Add(kAgent, "again", "bob", TestEpoch()).code() == Code::kAlreadyExists);
    CHECK((*store)->Remove("user:nobody").code() == Code::kNotFound);
  }

  auto deny = std::make_shared<DenyList>();
  auto reopened = DenyListStore::Open(state.path(), deny);
  REQUIRE(reopened.ok());
  CHECK(deny->Contains(kAgent));
  CHECK(deny->Contains("user:smith"));
  std::vector<DenyEntry> entries = (*reopened)->List();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].identity == kAgent);
  CHECK(entries[0].reason == "compromised");
  CHECK(entries[0].added_by == "alice");
  CHECK(entries[0].added_at == TestEpoch());
  CHECK(entries[1].identity == "user:smith");
  CHECK(entries[1].added_by == "bob");

  REQUIRE_OK((*reopened)->Remove(kAgent));
  auto again = std::make_shared<DenyList>();
  REQUIRE_OK(DenyListStore::Open(state.path(), again));
  CHECK(!again->Contains(kAgent));
  CHECK(again->Contains("user:smith"));
}

TEST_CASE("a deny list changed by another process takes effect on reload", "[lifecycle]") {
  TempDir state;
  auto served = std::make_shared<DenyList>();
  auto daemon = DenyListStore::Open(state.path(), served);
  REQUIRE(daemon.ok());
  {
    auto offline = DenyListStore::Open(state.path(), std::make_shared<DenyList>());
    REQUIRE(offline.ok());
    REQUIRE_OK((*offline)->Add(kAgent, "", "alice", TestEpoch()));
  }
  CHECK(!served->Contains(kAgent));
  REQUIRE_OK((*daemon)->Reload());
  CHECK(served->Contains(kAgent));
}

TEST_CASE("a grant past its expires_at is refused", "[lifecycle]") {
  Grant grant;
  grant.caller = kCaller;
  grant.operations = {Operation::kJwtSvid};
  grant.subjects = {"spiffe://example.org/*"};
  grant.audiences = {"*"};
  grant.max_ttl = {{Operation::kJwtSvid, Seconds(60)}};
  grant.expires_at = TestEpoch() + Seconds(100);
  Policy policy({grant});
  AuthorizationRequest request{Operation::kJwtSvid, kAgent, {kAudience}, {}, Seconds(60), ""};
  CHECK(policy.Authorize(kCaller, request, TestEpoch() + Seconds(99)).ok());
  Status expired = policy.Authorize(kCaller, request, TestEpoch() + Seconds(100));
  CHECK(expired.code() == Code::kPermissionDenied);
}

}  // namespace
}  // namespace signet::testing
