// signetctl's custodian commands, run as a process against a SoftHSM2 token and a
// state directory: the CA ceremony, key transitions, the deny list, exit codes.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "signer/key_catalogue.h"
#include "signer/x509_sign.h"
#include "tests/support/openssl_cli.h"
#include "tests/support/softhsm_token.h"

namespace signet::testing {
namespace {

std::string Config(const SoftHsmToken& token) {
  return R"(
trust_domain = "example.org"

[[backend]]
name = "hsm"
type = "pkcs11"
module = "/usr/lib/softhsm/libsofthsm2.so"
token = ")" +
         token.label() +
         R"("
pin_file = ")" +
         token.pin_file() +
         R"("

[[backend]]
name = "soft"
type = "software"

[[key]]
id = "jwt-1"
backend = "soft"
purpose = "jwt"
ref = "software:label=jwt-1;alg=ES256"

[minter]
jwt_key = "jwt-1"
issuer = "https://127.0.0.1:7444"

[ipc]
listen = "127.0.0.1:0"
certificate = "server.pem"
private_key = "server.key"
client_ca = "ca.pem"

[[caller]]
id = "spiffe://example.org/identity-server"
operations = ["jwt_svid"]
subjects = ["spiffe://example.org/*"]
audiences = ["*"]
[caller.max_ttl]
jwt_svid = 300
)";
}

struct Ctl {
  std::string base;
  int Run(const std::string& args, std::string* out) const {
    return RunCommand(base + " " + args, out);
  }
};

TEST_CASE("signetctl runs the CA ceremony and key transitions offline on SoftHSM",
          "[lifecycle][softhsm]") {
  SoftHsmToken token("custodian");
  TempDir state;
  std::string config = state.Write("signetd.toml", Config(token));
  Ctl ctl{std::string(SIGNETCTL_PATH) + " --daemon-config " + config + " --state-dir " +
          state.path() + " --as custodian:alice"};
  std::string out;

  REQUIRE(ctl.Run("ca init-root --backend hsm --cn 'signet root' --trust-domain example.org "
                  "--path-length 1 --json",
                  &out) == 0);
  INFO(out);
  boost::json::value root_records = boost::json::parse(out);
  std::string root_kid(root_records.as_array().back().at("kid").as_string());
  CHECK(root_records.as_array().back().at("to") == "active");
  CHECK(root_records.as_array().back().at("by") == "custodian:alice");

  REQUIRE(ctl.Run("ca issue-intermediate --backend hsm --cn 'signet intermediate' "
                  "--trust-domain example.org --ttl 720h --path-length 0 --json",
                  &out) == 0);
  std::string int_kid(boost::json::parse(out).as_array().at(0).at("kid").as_string());

  // A CA key in the software backend is refused (exit 3), as is destroying an active key (4).
  CHECK(ctl.Run("ca issue-intermediate --backend soft --cn x", &out) == 3);
  CHECK(out.find("hardware") != std::string::npos);
  CHECK(ctl.Run("key destroy " + root_kid + " --yes", &out) == 4);
  CHECK(ctl.Run("key activate nope", &out) == 1);

  REQUIRE(ctl.Run("key activate " + int_kid, &out) == 0);
  CHECK(out.find("active") != std::string::npos);
  REQUIRE(ctl.Run("key list", &out) == 0);
  CHECK(out.find("x509-ca/intermediate") != std::string::npos);
  CHECK(out.find(int_kid) != std::string::npos);
  REQUIRE(ctl.Run("key show " + int_kid, &out) == 0);
  CHECK(out.find("custodian:alice") != std::string::npos);
  REQUIRE(ctl.Run("status", &out) == 0);
  CHECK(out.find(int_kid) != std::string::npos);

  // The chain the ceremony made passes openssl's strict checks.
  auto catalogue = FileCatalogueStore(state.path()).Load();
  REQUIRE(catalogue.ok());
  std::string root_pem =
      state.Write("root.pem", CertificatePem(catalogue->Find(root_kid)->cert_der));
  std::string int_pem = state.Write("int.pem", CertificatePem(catalogue->Find(int_kid)->cert_der));
  CHECK(RunCommand("openssl verify -x509_strict -CAfile " + root_pem + " " + int_pem, &out) == 0);

  // Retire then destroy the intermediate: refused until forced, as it certified nothing
  // yet but was active (the bound of the longest grant, 300 s, still holds).
  REQUIRE(ctl.Run("key retire " + int_kid, &out) == 0);
  CHECK(ctl.Run("key destroy " + int_kid + " --yes", &out) == 4);
  CHECK(ctl.Run("key destroy " + int_kid, &out) == 2);  // no terminal, no --yes
  REQUIRE(ctl.Run("key destroy " + int_kid + " --yes --force --json", &out) == 0);
  CHECK(out.find("destroyed") != std::string::npos);
  std::string objects;
  RunCommand(
      token.Pkcs11Tool() + " --login --pin \"$(cat " + token.pin_file() + ")\" --list-objects",
      &objects);
  CHECK(objects.find(root_kid) != std::string::npos);
  CHECK(objects.find(int_kid) == std::string::npos);
}

TEST_CASE("signetctl deny add, list and remove persist in the state directory",
          "[lifecycle][softhsm]") {
  SoftHsmToken token("deny");
  TempDir state;
  std::string config = state.Write("signetd.toml", Config(token));
  Ctl ctl{std::string(SIGNETCTL_PATH) + " --daemon-config " + config + " --state-dir " +
          state.path()};
  std::string out;
  const std::string agent = "spiffe://example.org/agent/refunds";

  REQUIRE(ctl.Run("deny add " + agent + " --reason 'agent compromised'", &out) == 0);
  CHECK(ctl.Run("deny add " + agent, &out) == 1);  // already there
  REQUIRE(ctl.Run("deny list --json", &out) == 0);
  boost::json::value listed = boost::json::parse(out);
  REQUIRE(listed.as_array().size() == 1);
  CHECK(listed.as_array()[0].at("identity").as_string() == agent);
  CHECK(listed.as_array()[0].at("reason") == "agent compromised");
  REQUIRE(ctl.Run("deny remove " + agent, &out) == 0);
  CHECK(ctl.Run("deny remove " + agent, &out) == 1);
  REQUIRE(ctl.Run("deny list", &out) == 0);
  CHECK(out.find(agent) == std::string::npos);
}

}  // namespace
}  // namespace signet::testing
