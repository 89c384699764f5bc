#include "tests/signer/lifecycle_support.h"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace signet::testing {

namespace json = boost::json;

namespace {

std::string MakeDir(const std::string& path) {
  std::filesystem::create_directories(path);
  return path;
}

}  // namespace

TimePoint TestEpoch() {
  return FromUnixSeconds(1767225600);
}

std::shared_ptr<const Policy> PermissivePolicy(Seconds ttl) {
  Grant grant;
  grant.caller = kCaller;
  grant.operations = {Operation::kJwtSvid, Operation::kAccessToken, Operation::kX509Svid};
  grant.subjects = {"spiffe://example.org/*"};
  grant.principals = {"user:*"};
  grant.actors = {"spiffe://example.org/*"};
  grant.audiences = {"*"};
  grant.max_act_depth = 4;
  grant.max_ttl = {
      {Operation::kJwtSvid, ttl}, {Operation::kAccessToken, ttl}, {Operation::kX509Svid, ttl}};
  return std::make_shared<const Policy>(std::vector<Grant>{grant});
}

LifecycleRig::LifecycleRig(KeyManager::Options opts, std::vector<Backend*> extra, Seconds max_ttl)
    : clock(std::make_shared<FakeClock>(TestEpoch())),
      deny(std::make_shared<DenyList>()),
      software(SoftwareBackend::Options{MakeDir(state.path() + "/software-keys"), 1, 64}),
      options(std::move(opts)),
      store(std::make_shared<FileCatalogueStore>(state.path())) {
  backends = {&software};
  backends.insert(backends.end(), extra.begin(), extra.end());
  Minter::Options minter_options;
  minter_options.trust_domain = "example.org";
  minter_options.access_token_issuer = "https://signet.example.org";
  minter_options.on_issued = [this](const AuditFields& audit) {
    if (keys) {
      keys->NoteIssued(audit.kid, audit.expires_at);
    }
  };
  minter = std::make_unique<Minter>(minter_options, clock, PermissivePolicy(max_ttl), deny);
  keys = std::make_unique<KeyManager>(options, clock, store, backends, minter.get());
}

std::unique_ptr<KeyManager> LifecycleRig::Reopen() {
  return std::make_unique<KeyManager>(options, clock, store, backends, minter.get());
}

std::vector<std::string> PyJwtFailures(const std::vector<JwtCheck>& checks) {
  TempDir dir;
  json::array cases;
  for (const JwtCheck& c : checks) {
    cases.push_back(json::object{{"token", c.token},
                                 {"jwks", c.jwks},
                                 {"now", c.now},
                                 {"aud", kAudience},
                                 {"label", c.label}});
  }
  std::string input = dir.Write("cases.json", json::serialize(cases));
  std::string script = dir.Write("check.py", R"PY(
import json, sys
import jwt

failures = []
for case in json.load(open(sys.argv[1])):
    try:
        header = jwt.get_unverified_header(case["token"])
        keys = jwt.PyJWKSet.from_dict(json.loads(case["jwks"])).keys
        match = [k for k in keys if k.key_id == header["kid"]]
        if not match:
            raise ValueError("kid %s is not in the JWKS" % header["kid"])
        claims = jwt.decode(case["token"], key=match[0].key, algorithms=[header["alg"]],
                            audience=case["aud"],
                            options={"verify_exp": False, "verify_iat": False,
                                     "verify_nbf": False})
        if claims["exp"] <= case["now"]:
            raise ValueError("expired at %d, now %d" % (claims["exp"], case["now"]))
    except Exception as e:
        failures.append("%s: %s" % (case["label"], e))
for f in failures:
    print("FAIL " + f)
print("DONE")
)PY");
  std::string output;
  int rc = RunCommand("/usr/bin/python3 " + script + " " + input, &output);
  if (rc != 0 || output.find("DONE") == std::string::npos) {
    throw std::runtime_error("python3-jwt check did not run: " + output);
  }
  std::vector<std::string> failures;
  size_t pos = 0;
  while ((pos = output.find("FAIL ", pos)) != std::string::npos) {
    size_t end = output.find('\n', pos);
    failures.push_back(output.substr(pos + 5, end - pos - 5));
    pos = end;
  }
  return failures;
}

std::string KidOf(const std::string& token) {
  std::string header_b64 = token.substr(0, token.find('.'));
  StatusOr<Bytes> header = Base64UrlDecode(header_b64);
  if (!header.ok()) {
    throw std::runtime_error("token header is not base64url");
  }
  json::value v = json::parse(AsText(*header));
  return std::string(v.at("kid").as_string());
}

}  // namespace signet::testing
