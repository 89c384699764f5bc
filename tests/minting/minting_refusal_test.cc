// Requests signet must refuse: each with its own clear error, and nothing signed.
#include <catch2/catch.hpp>

#include "tests/minting/minting_env.h"

namespace signet::testing {
namespace {

// Checks the refusal's code and message, and that no key was asked to sign.
template <typename T>
void ExpectRefused(MintingEnv& env, int signatures_before, const StatusOr<T>& result, Code code,
                   const std::string& message_part) {
  REQUIRE_FALSE(result.ok());
  INFO(result.status().ToString());
  CHECK(result.status().code() == code);
  CHECK(result.status().message().find(message_part) != std::string::npos);
  CHECK(env.signatures() == signatures_before);
}

AccessTokenRequest Delegated(std::vector<Actor> actors) {
  return AccessTokenRequest{"user:smith", {kApi}, "console", std::move(actors), "", Seconds(60)};
}

}  // namespace

TEST_CASE("minting refuses bad CSRs and signs nothing", "[minting][refusal]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  int before = env.signatures();
  auto mint = [&](std::string csr) {
    return env.minter().MintX509SvidAndWait(
        Caller{kIdp}, X509SvidRequest{"spiffe://example.org/app/web", std::move(csr), {}});
  };

  SECTION("malformed") {
    ExpectRefused(env, before, mint("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"),
                  Code::kInvalidArgument, "not a PEM certificate request");
    ExpectRefused(env, before, mint("\x30\x03\x02\x01"), Code::kInvalidArgument,
                  "not a DER certificate request");
    ExpectRefused(env, before, mint(""), Code::kInvalidArgument, "CSR is empty");
  }
  SECTION("wrong signature") {
    std::string pem_path = env.dir().Write("good.pem", env.MakeCsr("ec"));
    std::string der;
    REQUIRE(RunCommand("openssl req -in " + pem_path + " -outform DER -out " + env.dir().path() +
                       "/good.der") == 0);
    RunCommand("cat " + env.dir().path() + "/good.der", &der);
    der[der.size() - 5] ^= 0x01;  // a bit inside the signature value
    ExpectRefused(env, before, mint(der), Code::kInvalidArgument, "proof of possession");
  }
  SECTION("weak key") {
    std::string csr = env.MakeCsr("rsa:1024");
    ExpectRefused(env, before, mint(csr), Code::kInvalidArgument, "at least 2048");
  }
}

TEST_CASE("minting refuses SPIFFE IDs that break the specification", "[minting][refusal]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  int before = env.signatures();
  std::string csr = env.MakeCsr("ec");
  auto svid = [&](const std::string& id) {
    return env.minter().MintJwtSvidAndWait(Caller{kIdp}, JwtSvidRequest{id, {kApi}, {}});
  };
  ExpectRefused(env, before, svid("https://example.org/agent/a"), Code::kInvalidArgument, "scheme");
  ExpectRefused(env, before, svid("spiffe://Example.org/agent/a"), Code::kInvalidArgument,
                "trust domain characters");
  ExpectRefused(env, before, svid("spiffe://example.org/agent//a"), Code::kInvalidArgument,
                "must not be empty");
  ExpectRefused(env, before, svid("spiffe://example.org/agent/a/"), Code::kInvalidArgument,
                "must not end with '/'");
  ExpectRefused(env, before, svid("spiffe://example.org:443/agent/a"), Code::kInvalidArgument,
                "port");
  ExpectRefused(env, before, svid("spiffe://other.org/agent/a"), Code::kInvalidArgument,
                "not in trust domain");
  StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
      Caller{kIdp}, X509SvidRequest{"spiffe://example.org/agent/../idp", csr, {}});
  ExpectRefused(env, before, cert, Code::kInvalidArgument, "'.' or '..'");
}

TEST_CASE("minting refuses what the caller's grant does not allow", "[minting][refusal]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  int before = env.signatures();
  Minter& m = env.minter();

  ExpectRefused(
      env, before,
      m.MintJwtSvidAndWait(Caller{kIdp},
                           JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, Seconds(301)}),
      Code::kPermissionDenied, "exceeds max_ttl.jwt_svid 300s");
  ExpectRefused(
      env, before,
      m.MintX509SvidAndWait(Caller{kIdp}, X509SvidRequest{"spiffe://example.org/app/web",
                                                          env.MakeCsr("ec"), Seconds(7200)}),
      Code::kPermissionDenied, "exceeds max_ttl.x509_svid");
  ExpectRefused(env, before,
                m.MintJwtSvidAndWait(Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/app/web",
                                                                  {kApi, "https://evil.example"},
                                                                  {}}),
                Code::kPermissionDenied, "audience 'https://evil.example' is not granted");
  ExpectRefused(
      env, before,
      m.MintJwtSvidAndWait(Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/app/web", {}, {}}),
      Code::kInvalidArgument, "at least one audience");
  ExpectRefused(
      env, before,
      m.MintJwtSvidAndWait(Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/idp", {kApi}, {}}),
      Code::kPermissionDenied, "subject 'spiffe://example.org/idp' is not granted");
  ExpectRefused(env, before,
                m.MintJwtSvidAndWait(Caller{"spiffe://example.org/stranger"},
                                     JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, {}}),
                Code::kPermissionDenied, "no grant");
  ExpectRefused(env, before,
                m.MintJwtSvidAndWait(Caller{kExchange},
                                     JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, {}}),
                Code::kPermissionDenied, "operation 'jwt_svid' is not granted");
  ExpectRefused(env, before,
                m.MintAccessTokenAndWait(Caller{kIdp},
                                         AccessTokenRequest{"admin:root", {kApi}, "c", {}, "", {}}),
                Code::kPermissionDenied, "principal 'admin:root' is not granted");
}

TEST_CASE("minting enforces the act chain rules", "[minting][refusal]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  int before = env.signatures();
  Minter& m = env.minter();
  Actor agent{"spiffe://example.org/agent/refunds", ""};
  Actor app{"spiffe://example.org/app/support", ""};
  Actor third{"spiffe://example.org/agent/helper", ""};

  ExpectRefused(env, before, m.MintAccessTokenAndWait(Caller{kExchange}, Delegated({})),
                Code::kPermissionDenied, "act chain is required");
  ExpectRefused(env, before, m.MintAccessTokenAndWait(Caller{kExchange}, Delegated({agent, third})),
                Code::kPermissionDenied, "exceeds max_act_depth 1");
  ExpectRefused(env, before, m.MintAccessTokenAndWait(Caller{kIdp}, Delegated({agent, app, third})),
                Code::kPermissionDenied, "exceeds max_act_depth 2");
  ExpectRefused(env, before, m.MintAccessTokenAndWait(Caller{kExchange}, Delegated({app})),
                Code::kPermissionDenied, "actor 'spiffe://example.org/app/support' is not granted");
  CHECK(m.MintAccessTokenAndWait(Caller{kExchange}, Delegated({agent})).ok());
}

TEST_CASE("minting refuses terminated identities, also inside an act chain", "[minting][refusal]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  Minter& m = env.minter();
  Actor agent{"spiffe://example.org/agent/refunds", ""};
  env.deny().Add("spiffe://example.org/agent/refunds");
  env.deny().Add("user:mallory");
  int before = env.signatures();

  ExpectRefused(env, before,
                m.MintJwtSvidAndWait(Caller{kIdp}, JwtSvidRequest{agent.sub, {kApi}, {}}),
                Code::kPermissionDenied, "terminated");
  ExpectRefused(
      env, before,
      m.MintX509SvidAndWait(Caller{kIdp}, X509SvidRequest{agent.sub, env.MakeCsr("ec"), {}}),
      Code::kPermissionDenied, "terminated");
  ExpectRefused(env, before, m.MintAccessTokenAndWait(Caller{kIdp}, Delegated({agent})),
                Code::kPermissionDenied,
                "actor 'spiffe://example.org/agent/refunds' is terminated");
  ExpectRefused(env, before,
                m.MintAccessTokenAndWait(
                    Caller{kIdp}, AccessTokenRequest{"user:mallory", {kApi}, "c", {}, "", {}}),
                Code::kPermissionDenied, "subject 'user:mallory' is terminated");

  env.deny().Remove("spiffe://example.org/agent/refunds");
  CHECK(m.MintAccessTokenAndWait(Caller{kIdp}, Delegated({agent})).ok());
}

TEST_CASE("minting refuses unknown keys, an EdDSA JWT-SVID key and an expired grant",
          "[minting][refusal]") {
  MintingEnv env(Algorithm::kEdDSA, Algorithm::kES256, Algorithm::kES256);
  int before = env.signatures();
  Minter& m = env.minter();
  ExpectRefused(env, before,
                m.MintJwtSvidAndWait(Caller{kIdp},
                                     JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, {}}),
                Code::kFailedPrecondition, "JWT-SVID profile forbids");
  ExpectRefused(env, before,
                m.SignRawAndWait(Caller{kIdp}, RawSignRequest{"other", Bytes(32, 1), {}}),
                Code::kPermissionDenied, "raw signing with key 'other' is not granted");
  ExpectRefused(env, before,
                m.SignRawAndWait(Caller{kIdp}, RawSignRequest{"release", Bytes(20, 1), {}}),
                Code::kInvalidArgument, "digest");

  // A grant that names a key the Minter does not hold; later the same grant, expired.
  auto grant = [&](const std::string& extra) {
    StatusOr<Policy> policy = Policy::FromToml(R"(
[[caller]]
id = "spiffe://example.org/idp"
operations = ["raw_sign"]
raw_keys = ["missing"]
)" + extra,
                                               "p.toml");
    REQUIRE(policy.ok());
    m.SetPolicy(std::make_shared<const Policy>(std::move(*policy)));
  };
  grant("");
  ExpectRefused(env, before,
                m.SignRawAndWait(Caller{kIdp}, RawSignRequest{"missing", Bytes(32, 1), {}}),
                Code::kNotFound, "no raw signing key named 'missing'");
  grant("expires_at = 2000-01-01T00:00:00Z\n");
  ExpectRefused(env, before,
                m.SignRawAndWait(Caller{kIdp}, RawSignRequest{"missing", Bytes(32, 1), {}}),
                Code::kPermissionDenied, "grant expired");
}

}  // namespace signet::testing

namespace signet::testing {
namespace {

// Unit-test stand-in for a misbehaving device: signs with the real key, then flips
// a bit of the signature before returning it, for as long as it is failing.
class CorruptingKey : public SigningKey {
 public:
  explicit CorruptingKey(std::shared_ptr<SigningKey> inner)
      : SigningKey(inner->ref(), inner->algorithm(), inner->public_key()),
        inner_(std::move(inner)) {}

  void Sign(SignRequest request, SignCallback done) override {
    inner_->Sign(std::move(request), [this, done](StatusOr<Bytes> signature) {
      if (signature.ok() && failing_.load()) {
        signature->back() ^= 0x01;
      }
      done(std::move(signature));
    });
  }

  void set_failing(bool failing) { failing_ = failing; }

 private:
  std::shared_ptr<SigningKey> inner_;
  std::atomic<bool> failing_{true};
};

std::shared_ptr<SigningKey> Borrowed(SigningKey& key) {
  return std::shared_ptr<SigningKey>(&key, [](SigningKey*) {});
}

}  // namespace

TEST_CASE("a credential whose signature does not verify is never released", "[minting][refusal]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  KeySet keys;
  // backend_verifies is false: the corruption happens after the real backend checked.
  keys.jwt_svid =
      JwtKey{"jwt-svid-1", std::make_shared<CorruptingKey>(Borrowed(env.jwt_key())), false};
  keys.access_token =
      JwtKey{"at-1", std::make_shared<CorruptingKey>(Borrowed(env.at_key())), false};
  keys.x509_ca = X509Authority{
      std::make_shared<CorruptingKey>(env.ca_key()), env.intermediate_der(), {}, false};
  keys.raw["release"] = RawKey{std::make_shared<CorruptingKey>(Borrowed(env.raw_key())), false};
  env.minter().SetKeys(std::move(keys));
  Minter& m = env.minter();

  StatusOr<MintedToken> svid = m.MintJwtSvidAndWait(
      Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, {}});
  REQUIRE_FALSE(svid.ok());
  CHECK(svid.status().code() == Code::kDeviceError);
  StatusOr<MintedToken> at = m.MintAccessTokenAndWait(
      Caller{kIdp}, AccessTokenRequest{"user:smith", {kApi}, "c", {}, "", {}});
  REQUIRE_FALSE(at.ok());
  CHECK(at.status().code() == Code::kDeviceError);
  StatusOr<MintedCertificate> cert = m.MintX509SvidAndWait(
      Caller{kIdp}, X509SvidRequest{"spiffe://example.org/app/web", env.MakeCsr("ec"), {}});
  REQUIRE_FALSE(cert.ok());
  INFO(cert.status().ToString());
  CHECK(cert.status().code() == Code::kDeviceError);
  StatusOr<RawSignature> raw =
      m.SignRawAndWait(Caller{kIdp}, RawSignRequest{"release", Bytes(32, 7), {}});
  REQUIRE_FALSE(raw.ok());
  CHECK(raw.status().code() == Code::kDeviceError);
}

}  // namespace signet::testing

namespace signet::testing {

TEST_CASE("a key that signed badly stays fully checked when the same key set is set again",
          "[minting][refusal]") {
  // Sampling so rare that only the first signature and a failure's strict period verify.
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256, Seconds(24 * 3600),
                 CheckRate{1000000});
  auto device = std::make_shared<CorruptingKey>(Borrowed(env.jwt_key()));
  KeySet keys;
  keys.jwt_svid = JwtKey{"jwt-svid-1", device, false};
  env.minter().SetKeys(keys);
  auto mint = [&] {
    return env.minter().MintJwtSvidAndWait(
        Caller{kIdp}, JwtSvidRequest{"spiffe://example.org/app/web", {kApi}, {}});
  };

  StatusOr<MintedToken> first = mint();
  REQUIRE_FALSE(first.ok());
  CHECK(first.status().code() == Code::kDeviceError);

  // A key service publishes the same keys again; the device recovers, then fails again.
  env.minter().SetKeys(keys);
  device->set_failing(false);
  CHECK(mint().ok());
  device->set_failing(true);
  StatusOr<MintedToken> again = mint();
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == Code::kDeviceError);
}

TEST_CASE("minting refuses X.509-SVIDs when the CA certificate is missing or unreadable",
          "[minting][refusal]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  std::string csr = env.MakeCsr("ec");
  int before = env.signatures();
  auto mint = [&] {
    return env.minter().MintX509SvidAndWait(
        Caller{kIdp}, X509SvidRequest{"spiffe://example.org/app/web", csr, {}});
  };
  KeySet keys;
  keys.x509_ca = X509Authority{env.ca_key(), Bytes{0x30, 0x00}, {}, false};
  env.minter().SetKeys(keys);
  ExpectRefused(env, before, mint(), Code::kFailedPrecondition, "does not parse");
  env.minter().SetKeys(KeySet{});
  ExpectRefused(env, before, mint(), Code::kFailedPrecondition, "no X.509 CA");
}

}  // namespace signet::testing
