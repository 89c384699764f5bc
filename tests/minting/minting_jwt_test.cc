// JWT-SVIDs and access tokens, minted through a real backend and verified by
// python-jwt (code signet did not write).
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <algorithm>

#include "tests/minting/minting_env.h"

namespace signet::testing {
namespace {

bool Offers(BackendFixture& fixture, Algorithm alg) {
  std::vector<Algorithm> algs = fixture.algorithms();
  bool offered = std::find(algs.begin(), algs.end(), alg) != algs.end();
  if (!offered) {
    WARN("backend does not offer " << AlgorithmName(alg) << "; not tested here");
  }
  return offered;
}

std::vector<std::string> Keys(const boost::json::object& o) {
  std::vector<std::string> keys;
  for (const auto& member : o) {
    keys.emplace_back(member.key());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

TEST_CASE("a JWT-SVID verifies with python-jwt for each allowed algorithm", "[minting][jwt]") {
  for (Algorithm alg :
       {Algorithm::kES256, Algorithm::kES384, Algorithm::kPS256, Algorithm::kRS256}) {
    MintingEnv env(alg, Algorithm::kES256, Algorithm::kES256);
    if (!Offers(env.fixture(), alg)) {
      continue;
    }
    INFO("algorithm " << AlgorithmName(alg));

    StatusOr<MintedToken> token = env.minter().MintJwtSvidAndWait(
        Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/agent/refunds", {kApi}, Seconds(120)});
    REQUIRE(token.ok());

    boost::json::object out =
        PyJwtVerify(token->token, env.jwt_key().public_key().spki_der, alg, kApi);
    const boost::json::object& header = out["header"].as_object();
    const boost::json::object& claims = out["claims"].as_object();
    CHECK(Keys(header) == std::vector<std::string>{"alg", "kid", "typ"});
    CHECK(header.at("typ") == "JWT");
    CHECK(header.at("kid") == "jwt-svid-1");
    CHECK(header.at("alg").as_string() == AlgorithmName(alg));
    CHECK(Keys(claims) == std::vector<std::string>{"aud", "exp", "iat", "iss", "jti", "sub"});
    CHECK(claims.at("sub") == "spiffe://example.org/agent/refunds");
    CHECK(claims.at("iss") == "https://signet.example.org");
    CHECK(claims.at("exp").as_int64() - claims.at("iat").as_int64() == 120);
    CHECK(claims.at("iat").as_int64() == UnixSeconds(env.clock().Now()));
    CHECK(token->audit.kid == "jwt-svid-1");
    CHECK(token->audit.jti == claims.at("jti").as_string());
    CHECK(token->audit.expires_at - token->audit.issued_at == Seconds(120));
  }
}

TEST_CASE("a JWT-SVID with no TTL gets the granted maximum and several audiences",
          "[minting][jwt]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  StatusOr<MintedToken> token = env.minter().MintJwtSvidAndWait(
      Caller{kIdp},
      JwtSvidRequest{"spiffe://example.org/app/web", {kApi, "spiffe://example.org/db"}, {}});
  REQUIRE(token.ok());
  boost::json::object claims = PyJwtVerify(token->token, env.jwt_key().public_key().spki_der,
                                           Algorithm::kES256, "spiffe://example.org/db")["claims"]
                                   .as_object();
  CHECK(claims.at("exp").as_int64() - claims.at("iat").as_int64() == 300);
  CHECK(claims.at("aud").as_array().size() == 2);
}

TEST_CASE("an access token nests the act chain, outermost the current actor", "[minting][jwt]") {
  for (Algorithm alg : {Algorithm::kES256, Algorithm::kEdDSA}) {
    MintingEnv env(Algorithm::kES256, alg, Algorithm::kES256);
    if (!Offers(env.fixture(), alg)) {
      continue;
    }
    INFO("algorithm " << AlgorithmName(alg));
    AccessTokenRequest request;
    request.subject = "user:smith";
    request.audiences = {kApi};
    request.client_id = "support-console";
    request.scope = "refunds:write orders:read";
    request.actors = {{"spiffe://example.org/agent/refunds", ""},
                      {"spiffe://example.org/app/support", "https://idp.example.org"}};
    request.ttl = Seconds(600);

    StatusOr<MintedToken> token = env.minter().MintAccessTokenAndWait(Caller{kIdp}, request);
    REQUIRE(token.ok());
    boost::json::object out =
        PyJwtVerify(token->token, env.at_key().public_key().spki_der, alg, kApi);
    const boost::json::object& header = out["header"].as_object();
    const boost::json::object& claims = out["claims"].as_object();
    CHECK(Keys(header) == std::vector<std::string>{"alg", "kid", "typ"});
    CHECK(header.at("typ") == "at+jwt");
    CHECK(claims.at("iss") == "https://as.example.org");
    CHECK(claims.at("sub") == "user:smith");
    CHECK(claims.at("client_id") == "support-console");
    CHECK(claims.at("scope") == "refunds:write orders:read");
    CHECK(claims.at("jti").as_string().size() >= 22);  // 16 random bytes, base64url

    const boost::json::object& act = claims.at("act").as_object();
    CHECK(Keys(act) == std::vector<std::string>{"act", "sub"});
    CHECK(act.at("sub") == "spiffe://example.org/agent/refunds");
    const boost::json::object& inner = act.at("act").as_object();
    CHECK(Keys(inner) == std::vector<std::string>{"iss", "sub"});
    CHECK(inner.at("sub") == "spiffe://example.org/app/support");

    REQUIRE(token->audit.actors.size() == 2);
    CHECK(token->audit.actors[0].sub == "spiffe://example.org/agent/refunds");
    CHECK(token->audit.subject == "user:smith");
  }
}

TEST_CASE("access token ids are unique", "[minting][jwt]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  AccessTokenRequest request{"user:smith", {kApi}, "cli", {}, "", Seconds(60)};
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    StatusOr<MintedToken> token = env.minter().MintAccessTokenAndWait(Caller{kIdp}, request);
    REQUIRE(token.ok());
    ids.insert(token->audit.jti);
  }
  CHECK(ids.size() == 20);
}

TEST_CASE("the JWKS lets python-jwt find and verify keys by kid", "[minting][jwt]") {
  MintingEnv env(Algorithm::kES384, Algorithm::kRS256, Algorithm::kES256);
  StatusOr<std::string> jwks = env.minter().JwksJson();
  REQUIRE(jwks.ok());
  StatusOr<MintedToken> at = env.minter().MintAccessTokenAndWait(
      Caller{kIdp}, AccessTokenRequest{"user:smith", {kApi}, "cli", {}, "", Seconds(60)});
  REQUIRE(at.ok());
  CHECK(PyJwtVerifyWithJwks(at->token, *jwks, Algorithm::kRS256, kApi)["claims"].as_object().at(
            "sub") == "user:smith");
  StatusOr<MintedToken> svid = env.minter().MintJwtSvidAndWait(
      Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, Seconds(60)});
  REQUIRE(svid.ok());
  CHECK_NOTHROW(PyJwtVerifyWithJwks(svid->token, *jwks, Algorithm::kES384, kApi));
}

TEST_CASE("the SPIFFE bundle verifies JWT-SVIDs, carries the root, and its sequence grows",
          "[minting][bundle]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  StatusOr<std::string> first = env.minter().SpiffeBundleJson();
  REQUIRE(first.ok());
  boost::json::object bundle = boost::json::parse(*first).as_object();
  const boost::json::array& keys = bundle.at("keys").as_array();
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].at("use") == "jwt-svid");
  CHECK(keys[0].at("kid") == "jwt-svid-1");
  CHECK(keys[1].at("use") == "x509-svid");
  CHECK(!keys[1].as_object().contains("kid"));
  CHECK(keys[1].at("x5c").as_array()[0].as_string() == Base64Encode(env.root_der()));
  CHECK(bundle.at("spiffe_refresh_hint").as_int64() == 300);
  uint64_t seq1 = bundle.at("spiffe_sequence").to_number<uint64_t>();

  StatusOr<MintedToken> svid = env.minter().MintJwtSvidAndWait(
      Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, Seconds(60)});
  REQUIRE(svid.ok());
  CHECK_NOTHROW(PyJwtVerifyWithJwks(svid->token, *first, Algorithm::kES256, kApi));

  StatusOr<std::string> again = env.minter().SpiffeBundleJson();
  REQUIRE(again.ok());
  CHECK(boost::json::parse(*again).at("spiffe_sequence").to_number<uint64_t>() == seq1);

  // Publishing the access token key as well changes the content: the sequence must grow.
  KeySet keys2;
  keys2.jwt_svid = JwtKey{"jwt-svid-1", std::shared_ptr<SigningKey>(&env.jwt_key(), [](auto*) {})};
  keys2.published_jwt.push_back(
      JwtKey{"next", std::shared_ptr<SigningKey>(&env.at_key(), [](auto*) {})});
  keys2.x509_roots.push_back(env.root_der());
  env.minter().SetKeys(std::move(keys2));
  StatusOr<std::string> changed = env.minter().SpiffeBundleJson();
  REQUIRE(changed.ok());
  boost::json::object b2 = boost::json::parse(*changed).as_object();
  CHECK(b2.at("keys").as_array().size() == 3);
  CHECK(b2.at("spiffe_sequence").to_number<uint64_t>() > seq1);
}

}  // namespace signet::testing
