#include "tests/minting/minting_env.h"

#include <boost/json/parse.hpp>

#include <stdexcept>

#include "signer/ca.h"

namespace signet::testing {
namespace {

constexpr const char* kVerifyScript = R"PY(
import json, sys
import jwt
from cryptography.hazmat.primitives.serialization import load_der_public_key

mode, token_path, key_path, alg, audience = sys.argv[1:6]
token = open(token_path).read().strip()
if mode == "key":
    key = load_der_public_key(open(key_path, "rb").read())
else:
    keys = json.load(open(key_path))["keys"]
    keys = [k for k in keys if k.get("use") in ("sig", "jwt-svid")]
    kid = jwt.get_unverified_header(token)["kid"]
    match = [k for k in keys if k.get("kid") == kid]
    if len(match) != 1:
        sys.exit("kid %s not in key set" % kid)
    jwk = jwt.PyJWK(match[0], algorithm=alg)
    key = jwk.key
claims = jwt.decode(token, key=key, algorithms=[alg], audience=audience,
                    options={"require": ["exp", "iat", "sub", "aud"]})
print(json.dumps({"header": jwt.get_unverified_header(token), "claims": claims}))
)PY";

boost::json::object RunVerify(const std::string& mode, const std::string& token,
                              const std::string& key_file_contents, Algorithm alg,
                              const std::string& audience) {
  TempDir dir;
  std::string script = dir.Write("verify.py", kVerifyScript);
  std::string token_path = dir.Write("token", token);
  std::string key_path = dir.Write("key", key_file_contents);
  std::string out;
  int rc = RunCommand("/usr/bin/python3 " + script + " " + mode + " " + token_path + " " +
                          key_path + " " + std::string(AlgorithmName(alg)) + " '" + audience + "'",
                      &out);
  if (rc != 0) {
    throw std::runtime_error("python-jwt rejected the token: " + out);
  }
  return boost::json::parse(out).as_object();
}

KeySpec Spec(Algorithm alg, const std::string& label, Purpose purpose) {
  KeySpec spec;
  spec.algorithm = alg;
  spec.label = label;
  spec.purpose = purpose;
  return spec;
}

std::shared_ptr<CountingKey> Generate(Backend& backend, const KeySpec& spec) {
  StatusOr<std::shared_ptr<SigningKey>> key = backend.GenerateKey(spec);
  if (!key.ok()) {
    throw std::runtime_error("GenerateKey(" + spec.label + "): " + key.status().ToString());
  }
  return std::make_shared<CountingKey>(*key);
}

}  // namespace

std::string TestPolicyToml() {
  return R"(
[[caller]]
id = "spiffe://example.org/idp"
operations = ["jwt_svid", "access_token", "x509_svid", "raw_sign"]
subjects = ["spiffe://example.org/agent/*", "spiffe://example.org/app/*"]
principals = ["user:*"]
actors = ["spiffe://example.org/agent/*", "spiffe://example.org/app/*"]
audiences = ["https://api.example.org", "spiffe://example.org/db"]
max_act_depth = 2
raw_keys = ["release"]
[caller.max_ttl]
jwt_svid = 300
access_token = 600
x509_svid = 3600

[[caller]]
id = "spiffe://example.org/exchange"
operations = ["access_token"]
principals = ["user:*"]
actors = ["spiffe://example.org/agent/*"]
audiences = ["https://api.example.org"]
require_act = true
max_act_depth = 1
[caller.max_ttl]
access_token = 300
)";
}

CountingKey::CountingKey(std::shared_ptr<SigningKey> inner)
    : SigningKey(inner->ref(), inner->algorithm(), inner->public_key()), inner_(std::move(inner)) {}

void CountingKey::Sign(SignRequest request, SignCallback done) {
  ++count_;
  inner_->Sign(std::move(request), std::move(done));
}

MintingEnv::MintingEnv(Algorithm jwt_alg, Algorithm at_alg, Algorithm ca_alg,
                       Seconds intermediate_ttl, CheckRate check_rate)
    : fixture_(MakeBackendFixture()),
      clock_(std::make_shared<FakeClock>(std::chrono::system_clock::now())),
      deny_(std::make_shared<DenyList>()) {
  Backend& backend = fixture_->backend();
  root_key_ = Generate(backend, Spec(ca_alg, "mint-root", Purpose::kX509Ca));
  ca_key_ = Generate(backend, Spec(ca_alg, "mint-intermediate", Purpose::kX509Ca));
  jwt_key_ = Generate(backend, Spec(jwt_alg, "mint-jwt-svid", Purpose::kJwt));
  at_key_ = Generate(backend, Spec(at_alg, "mint-access-token", Purpose::kJwt));
  raw_key_ = Generate(backend, Spec(Algorithm::kES256, "mint-raw", Purpose::kRaw));

  CaCertificateSpec root_spec{"signet test root", "signet", "example.org", Seconds(10 * 24 * 3600),
                              1};
  StatusOr<Bytes> root = CreateRootCertificate(*root_key_, root_spec, *clock_);
  if (!root.ok()) {
    throw std::runtime_error("CreateRootCertificate: " + root.status().ToString());
  }
  root_der_ = *root;
  CaCertificateSpec inter_spec{"signet test intermediate", "signet", "example.org",
                               intermediate_ttl, 0};
  StatusOr<Bytes> inter = CreateIntermediateCertificate(*root_key_, root_der_,
                                                        ca_key_->public_key(), inter_spec, *clock_);
  if (!inter.ok()) {
    throw std::runtime_error("CreateIntermediateCertificate: " + inter.status().ToString());
  }
  intermediate_der_ = *inter;

  StatusOr<Policy> policy = Policy::FromToml(TestPolicyToml(), "test-policy.toml");
  if (!policy.ok()) {
    throw std::runtime_error(policy.status().ToString());
  }
  Minter::Options options;
  options.trust_domain = "example.org";
  options.jwt_svid_issuer = "https://signet.example.org";
  options.jwt_svid_jti = true;
  options.access_token_issuer = "https://as.example.org";
  options.check_rate = check_rate;
  minter_ = std::make_unique<Minter>(options, clock_,
                                     std::make_shared<const Policy>(std::move(*policy)), deny_);

  bool verifies = backend.capabilities().verifies_signatures;
  KeySet keys;
  keys.jwt_svid = JwtKey{"jwt-svid-1", jwt_key_, verifies};
  keys.access_token = JwtKey{"at-1", at_key_, verifies};
  keys.x509_ca = X509Authority{ca_key_, intermediate_der_, {}, verifies};
  keys.raw["release"] = RawKey{raw_key_, verifies};
  keys.x509_roots.push_back(root_der_);
  minter_->SetKeys(std::move(keys));
}

int MintingEnv::signatures() const {
  return root_key_->count() + ca_key_->count() + jwt_key_->count() + at_key_->count() +
         raw_key_->count();
}

std::string MintingEnv::MakeCsr(const std::string& key_type, const std::string& extra) const {
  std::string name = "csr" + std::to_string(++csr_counter_);
  std::string keyopt = key_type == "ec"    ? "-newkey ec -pkeyopt ec_paramgen_curve:P-256"
                       : key_type == "rsa" ? "-newkey rsa:2048"
                                           : "-newkey " + key_type;
  std::string out;
  int rc = RunCommand("openssl req -new " + keyopt + " -nodes -keyout " + dir_.path() + "/" + name +
                          ".key -subj /CN=ignored " + extra + " -out " + dir_.path() + "/" + name +
                          ".pem",
                      &out);
  if (rc != 0) {
    throw std::runtime_error("openssl req failed: " + out);
  }
  std::string pem;
  RunCommand("cat " + dir_.path() + "/" + name + ".pem", &pem);
  return pem;
}

std::string MintingEnv::WritePem(const std::string& name, const Bytes& der) const {
  std::string der_path = dir_.Write(name + ".der", std::string(der.begin(), der.end()));
  std::string pem_path = dir_.path() + "/" + name + ".pem";
  RunCommand("openssl x509 -inform DER -in " + der_path + " -out " + pem_path);
  return pem_path;
}

boost::json::object PyJwtVerify(const std::string& token, const Bytes& spki_der, Algorithm alg,
                                const std::string& audience) {
  return RunVerify("key", token, std::string(spki_der.begin(), spki_der.end()), alg, audience);
}

boost::json::object PyJwtVerifyWithJwks(const std::string& token, const std::string& jwks_json,
                                        Algorithm alg, const std::string& audience) {
  return RunVerify("jwks", token, jwks_json, alg, audience);
}

std::string MintingEnv::OpensslVerify(const MintedCertificate& cert,
                                      const std::string& name) const {
  std::string leaf = WritePem(name, cert.cert_der);
  std::string root = WritePem(name + "-root", root_der_);
  std::string chain = dir_.Write(name + "-chain.pem", "");
  for (size_t i = 0; i < cert.chain_der.size(); ++i) {
    std::string one = WritePem(name + "-chain" + std::to_string(i), cert.chain_der[i]);
    RunCommand("cat " + one + " >> " + chain);
  }
  std::string out;
  RunCommand("openssl verify -x509_strict -purpose sslclient -CAfile " + root + " -untrusted " +
                 chain + " " + leaf,
             &out);
  return out;
}

}  // namespace signet::testing
