#include "tools/signetd/config.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/support/openssl_cli.h"

namespace signet {
namespace {

// A complete, valid config; tests replace one line to break it.
const std::string kValid = R"(
trust_domain = "example.org"

[log]
level = "info"

[[backend]]
name = "hsm"
type = "pkcs11"
module = "/usr/lib/softhsm/libsofthsm2.so"
token = "signet-dev"
pin_file = "softhsm/pin"

[[backend]]
name = "soft"
type = "software"

[[key]]
id = "jwt-1"
backend = "hsm"
purpose = "jwt"
ref = "pkcs11:token=signet-dev;object=jwt-1"

[[key]]
id = "intermediate-1"
backend = "hsm"
purpose = "x509-ca"
ref = "pkcs11:token=signet-dev;object=intermediate-1"
certificate = "ca/intermediate.pem"
chain = "ca/root.pem"

[minter]
jwt_key = "jwt-1"
x509_ca_key = "intermediate-1"
issuer = "https://127.0.0.1:7444"

[ipc]
listen = "127.0.0.1:7443"
unix_socket = "signetd.sock"
certificate = "pki/server.pem"
private_key = "pki/server.key"
client_ca = "pki/ca.pem"

[https]
listen = "127.0.0.1:7444"

[[caller]]
id = "spiffe://example.org/identity-server"
operations = ["jwt_svid"]
subjects = ["spiffe://example.org/*"]
audiences = ["*"]
[caller.max_ttl]
jwt_svid = 300
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string ErrorOf(const std::string& text) {
  StatusOr<DaemonConfig> config = ParseDaemonConfig(text, "/etc/signet/signetd.toml");
  REQUIRE_FALSE(config.ok());
  return config.status().message();
}

TEST_CASE("a complete signetd config loads with paths resolved beside the file") {
  StatusOr<DaemonConfig> config = ParseDaemonConfig(kValid, "/etc/signet/signetd.toml");
  REQUIRE(config.ok());
  CHECK(config->trust_domain == "example.org");
  REQUIRE(config->backends.size() == 2);
  CHECK(config->backends[0].type == BackendType::kPkcs11);
  CHECK(config->backends[0].pin.file == "/etc/signet/softhsm/pin");
  CHECK(config->backends[0].pin.env_var.empty());
  CHECK(config->FindKey("intermediate-1")->certificate == "/etc/signet/ca/intermediate.pem");
  CHECK(config->ipc_unix_socket == "/etc/signet/signetd.sock");
  CHECK(config->https_tls.certificate == "/etc/signet/pki/server.pem");
  CHECK(config->policy_text.find("spiffe://example.org/identity-server") != std::string::npos);
  CHECK(config->policy_text.find("jwt_key") == std::string::npos);
}

TEST_CASE("signetd config checks one ECDSA signature in 64 unless told otherwise") {
  StatusOr<DaemonConfig> defaults = ParseDaemonConfig(kValid, "/etc/signet/signetd.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults->check_rate.ecdsa_one_in == 64);

  std::string every = Replace(kValid, "trust_domain = \"example.org\"\n",
                              "trust_domain = \"example.org\"\necdsa_check_one_in = 1\n");
  StatusOr<DaemonConfig> config = ParseDaemonConfig(every, "/etc/signet/signetd.toml");
  REQUIRE(config.ok());
  CHECK(config->check_rate.ecdsa_one_in == 1);

  std::string zero = Replace(every, "ecdsa_check_one_in = 1", "ecdsa_check_one_in = 0");
  CHECK(ErrorOf(zero).find("ecdsa_check_one_in") != std::string::npos);
}

TEST_CASE("signetd config groups audit syncs in 5 ms windows unless told otherwise") {
  StatusOr<DaemonConfig> defaults = ParseDaemonConfig(kValid, "/etc/signet/signetd.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults->audit_group_window_ms == 5);

  std::string shorter = Replace(kValid, "trust_domain = \"example.org\"\n",
                                "trust_domain = \"example.org\"\naudit_group_window_ms = 2\n");
  StatusOr<DaemonConfig> config = ParseDaemonConfig(shorter, "/etc/signet/signetd.toml");
  REQUIRE(config.ok());
  CHECK(config->audit_group_window_ms == 2);

  std::string negative =
      Replace(shorter, "audit_group_window_ms = 2", "audit_group_window_ms = -1");
  CHECK(ErrorOf(negative).find("audit_group_window_ms") != std::string::npos);
}

TEST_CASE("signetd config names a missing file") {
  StatusOr<DaemonConfig> config = LoadDaemonConfig("/nonexistent/signetd.toml");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == Code::kNotFound);
  CHECK(config.status().message() == "/nonexistent/signetd.toml: no such config file");
}

TEST_CASE("signetd config refuses a PIN written in the config text") {
  std::string text = Replace(kValid, "pin_file = \"softhsm/pin\"", "pin = \"1234\"");
  std::string error = ErrorOf(text);
  CHECK(error.find("/etc/signet/signetd.toml: backend[0].pin: secrets are never written") == 0);
  CHECK(error.find("1234") == std::string::npos);
}

TEST_CASE("signetd config refuses an unknown key and names it") {
  std::string text = Replace(kValid, "token = \"signet-dev\"", "tokn = \"signet-dev\"");
  CHECK(ErrorOf(text) == "/etc/signet/signetd.toml: backend[0].token: is required");

  text = Replace(kValid, "[https]\n", "[https]\nlisten_port = 7444\n");
  CHECK(ErrorOf(text).find("https.listen_port: unknown key") != std::string::npos);
}

TEST_CASE("signetd config refuses a value of the wrong type or form") {
  CHECK(ErrorOf(Replace(kValid, "listen = \"127.0.0.1:7443\"", "listen = 7443")) ==
        "/etc/signet/signetd.toml: ipc.listen: expected a string, got an integer");
  CHECK(ErrorOf(Replace(kValid, "listen = \"127.0.0.1:7443\"", "listen = \"localhost\""))
            .find("ipc.listen: expected host:port") != std::string::npos);
  CHECK(ErrorOf(Replace(kValid, "type = \"pkcs11\"", "type = \"hsm\""))
            .find("backend[0].type: unknown backend type 'hsm'") != std::string::npos);
}

TEST_CASE("signetd config refuses keys that point nowhere or at the wrong purpose") {
  CHECK(ErrorOf(Replace(kValid, "jwt_key = \"jwt-1\"", "jwt_key = \"jwt-2\"")) ==
        "/etc/signet/signetd.toml: minter.jwt_key: no [[key]] has id 'jwt-2'");
  CHECK(ErrorOf(Replace(kValid, "jwt_key = \"jwt-1\"", "jwt_key = \"intermediate-1\""))
            .find("has purpose x509-ca, not jwt") != std::string::npos);
  CHECK(ErrorOf(Replace(kValid, "backend = \"hsm\"\npurpose = \"jwt\"",
                        "backend = \"tpm\"\npurpose = \"jwt\"")) ==
        "/etc/signet/signetd.toml: key[0].backend: no [[backend]] is named 'tpm'");
}

TEST_CASE("signetd config with a state_dir takes keys from the catalogue and its rotation") {
  std::string text = Replace(kValid, "trust_domain = \"example.org\"\n",
                             "trust_domain = \"example.org\"\nstate_dir = \"state\"\n");
  text = Replace(text, "[ipc]\n", R"([rotation]
interval = "30s"
[rotation.jwt]
lifetime = "12h"
backend = "hsm"
[rotation.x509-ca]
lifetime = "720h"
algorithm = "ES384"
backend = "hsm"
common_name = "signet intermediate"

[ipc]
)");
  StatusOr<DaemonConfig> config = ParseDaemonConfig(text, "/etc/signet/signetd.toml");
  REQUIRE(config.ok());
  CHECK(config->KeysFromCatalogue());
  CHECK(config->state_dir == "/etc/signet/state");
  CHECK(config->rotation.interval == Seconds(30));
  REQUIRE(config->rotation.rules.count(Purpose::kJwt) == 1);
  CHECK(config->rotation.rules.at(Purpose::kJwt).lifetime == Seconds(12 * 3600));
  CHECK(config->rotation.rules.at(Purpose::kJwt).algorithm == Algorithm::kES256);
  CHECK(config->rotation.rules.at(Purpose::kX509Ca).algorithm == Algorithm::kES384);
  CHECK(config->rotation.intermediate.common_name == "signet intermediate");
  CHECK(config->rotation.intermediate.trust_domain == "example.org");

  // The catalogue says which key signs: [minter] is optional.
  std::string no_minter = Replace(text, "jwt_key = \"jwt-1\"\n", "");
  no_minter = Replace(no_minter, "x509_ca_key = \"intermediate-1\"\n", "");
  CHECK(ParseDaemonConfig(no_minter, "/etc/signet/signetd.toml").ok());

  CHECK(ErrorOf(Replace(text, "lifetime = \"12h\"\nbackend = \"hsm\"",
                        "lifetime = \"12h\"\nbackend = \"tpm\"")) ==
        "/etc/signet/signetd.toml: rotation.jwt.backend: no [[backend]] is named 'tpm'");
  CHECK(ErrorOf(Replace(text, "common_name = \"signet intermediate\"\n", "")) ==
        "/etc/signet/signetd.toml: rotation.x509-ca.common_name: is required");
  CHECK(ErrorOf(Replace(text, "lifetime = \"12h\"", "lifetime = \"30s\""))
            .find("rotation.jwt.lifetime: must be at least 1m") != std::string::npos);
}

TEST_CASE("signetd config refuses a rotation rule without a state_dir") {
  std::string text = Replace(kValid, "[ipc]\n", "[rotation.jwt]\nbackend = \"hsm\"\n\n[ipc]\n");
  CHECK(ErrorOf(text) ==
        "/etc/signet/signetd.toml: rotation: needs state_dir: rotated keys live in the key "
        "catalogue");
}

TEST_CASE("signetd config keeps CA keys off the software backend unless allowed") {
  std::string text = Replace(kValid, "backend = \"hsm\"\npurpose = \"x509-ca\"",
                             "backend = \"soft\"\npurpose = \"x509-ca\"");
  CHECK(ErrorOf(text).find("key[1].backend: an x509-ca key belongs in hardware") !=
        std::string::npos);
  text = Replace(text, "chain = \"ca/root.pem\"", "chain = \"ca/root.pem\"\nallow_software = true");
  CHECK(ParseDaemonConfig(text, "/etc/signet/signetd.toml").ok());
}

TEST_CASE("signetd config takes a PIN from an environment variable, not both sources") {
  std::string text = Replace(kValid, "pin_file = \"softhsm/pin\"", "pin_env = \"HSM_PIN\"");
  StatusOr<DaemonConfig> config = ParseDaemonConfig(text, "/etc/signet/signetd.toml");
  REQUIRE(config.ok());
  CHECK(config->backends[0].pin.env_var == "HSM_PIN");

  text = Replace(kValid, "pin_file = \"softhsm/pin\"",
                 "pin_file = \"softhsm/pin\"\npin_env = \"HSM_PIN\"");
  CHECK(ErrorOf(text).find("give either pin_env or pin_file, not both") != std::string::npos);
}

TEST_CASE("signetd config reports a TOML syntax error with its line") {
  std::string error = ErrorOf("trust_domain = \"example.org\"\n[ipc\n");
  CHECK(error.find("/etc/signet/signetd.toml:2:") == 0);
}

TEST_CASE("signetd config reads the policy from the file policy_file names") {
  testing::TempDir dir;
  std::string policy = dir.Write("policy.toml", "[[caller]]\nid = \"spiffe://example.org/x\"\n");
  size_t at = kValid.find("[[caller]]");
  std::string text = kValid.substr(0, at);
  text = Replace(text, "trust_domain = \"example.org\"",
                 "trust_domain = \"example.org\"\npolicy_file = \"policy.toml\"");
  StatusOr<DaemonConfig> config = ParseDaemonConfig(text, dir.path() + "/signetd.toml");
  REQUIRE(config.ok());
  CHECK(config->policy_source == policy);
  CHECK(config->policy_text.find("spiffe://example.org/x") != std::string::npos);

  CHECK(ErrorOf(Replace(kValid, "trust_domain = \"example.org\"",
                        "trust_domain = \"example.org\"\npolicy_file = \"p.toml\""))
            .find("give either policy_file or [[caller]] tables") != std::string::npos);
}

TEST_CASE("signetd config reads a TPM backend and requires its auth source") {
  std::string tpm =
      "[[backend]]\nname = \"tpm\"\ntype = \"tpm\"\ntcti = \"swtpm:port=2321\"\n"
      "auth_env = \"TPM_AUTH\"\nsession = \"password\"\nkey_dir = \"tpm-keys\"\n\n";
  std::string text =
      Replace(kValid, "[[backend]]\nname = \"soft\"", tpm + "[[backend]]\nname = \"soft\"");
  StatusOr<DaemonConfig> config = ParseDaemonConfig(text, "/etc/signet/signetd.toml");
  REQUIRE(config.ok());
  const BackendConfig* backend = config->FindBackend("tpm");
  REQUIRE(backend != nullptr);
  CHECK(backend->type == BackendType::kTpm);
  CHECK(backend->auth.env_var == "TPM_AUTH");
  CHECK(backend->password_session);
  CHECK(backend->key_dir == "/etc/signet/tpm-keys");
  CHECK_FALSE(backend->owner_auth.has_value());

  CHECK(ErrorOf(Replace(text, "auth_env = \"TPM_AUTH\"\n", "")) ==
        "/etc/signet/signetd.toml: backend[1].auth_env: is required (or auth_file): the "
        "environment variable or 0600 file holding it");
  CHECK(ErrorOf(Replace(text, "auth_env = \"TPM_AUTH\"", "auth = \"s3cret\""))
            .find("backend[1].auth: secrets are never written in the config") != std::string::npos);
  CHECK(ErrorOf(Replace(text, "session = \"password\"", "session = \"plain\""))
            .find("backend[1].session: expected hmac or password") != std::string::npos);
}

TEST_CASE("signetd config reads a slow-test backend with its latency and sessions") {
  std::string slow =
      "[[backend]]\nname = \"slow\"\ntype = \"slow-test\"\nlatency_us = 1500\nsessions = 8\n\n";
  std::string text =
      Replace(kValid, "[[backend]]\nname = \"soft\"", slow + "[[backend]]\nname = \"soft\"");
  StatusOr<DaemonConfig> config = ParseDaemonConfig(text, "/etc/signet/signetd.toml");
  REQUIRE(config.ok());
  const BackendConfig* backend = config->FindBackend("slow");
  REQUIRE(backend != nullptr);
  CHECK(backend->type == BackendType::kSlowTest);
  CHECK(backend->latency_us == 1500);
  CHECK(backend->sessions == 8);
  INFO(ErrorOf(Replace(text, "sessions = 8", "sessions = 0")));
  CHECK(ErrorOf(Replace(text, "sessions = 8", "sessions = 0")).find(".sessions") !=
        std::string::npos);
}

}  // namespace
}  // namespace signet
