// signetctl: the command line for signet.
//
//   signetctl [--config FILE] mint jwt-svid --sub SPIFFE_ID --aud AUD [--aud AUD...] [--ttl 5m]
//   signetctl mint access-token --sub SUB --aud AUD --client-id ID [--scope S] [--act SUB...]
//   signetctl mint x509-svid --csr FILE --sub SPIFFE_ID [--ttl 1h]
//   signetctl sign --key KID --digest HEX [--encoding der|raw]
//   signetctl jwks | bundle
//   signetctl audit verify | query | checkpoints     (offline, on an audit log directory)
//
//   signetctl --daemon-config signetd.toml --state-dir DIR key|deny|ca|status ...
//     custodian commands, offline against the state directory and the devices (custodian.h)
//
// The client config comes from --config or $SIGNET_CONFIG. Exit status: 0 on success, 1 when
// signetd refused or failed the request, 2 for a usage or config error, 3 when the caller is
// not allowed (permission_denied), 4 when the key lifecycle refuses a custodian command
// (failed_precondition: e.g. destroying a key whose credentials are still valid).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "ipc/client.h"
#include "tools/signetctl/audit_commands.h"
#include "tools/signetctl/client_config.h"
#include "tools/signetctl/commands.h"
#include "tools/signetctl/custodian.h"

namespace signet::ctl {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitPermission = 3;
constexpr int kExitRefused = 4;

int RunCustodian(const std::function<Status()>& command) {
  Status status = command();
  if (status.ok()) {
    return 0;
  }
  std::cerr << "signetctl: " << status.ToString() << "\n";
  switch (status.code()) {
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kPermissionDenied:
    case Code::kWrongPin:
    case Code::kPinLocked:
      return kExitPermission;
    case Code::kFailedPrecondition:
      return kExitRefused;
    default:
      return kExitFailed;
  }
}

// Destroying a key cannot be undone: unless --yes, the custodian types the kid back.
bool ConfirmDestroy(const std::string& kid) {
  if (::isatty(STDIN_FILENO) == 0) {
    std::cerr << "signetctl: destroying '" << kid << "' needs --yes when stdin is not a terminal\n";
    return false;
  }
  std::cerr << "Destroy key '" << kid << "' in its device for good? Type its kid to confirm: ";
  std::string answer;
  std::getline(std::cin, answer);
  return answer == kid;
}

// What the user can do about an error, by its code.
std::string Hint(const Status& status, const ClientConfig& config) {
  switch (status.code()) {
    case Code::kPermissionDenied:
      return "the caller's grant in signetd's policy ([[caller]] in signetd.toml) does not "
             "allow this";
    case Code::kUnavailable: {
      std::string endpoints;
      for (const std::string& e : config.endpoints) {
        endpoints += (endpoints.empty() ? "" : ", ") + e;
      }
      return "is signetd running and reachable at " + endpoints + "?";
    }
    default:
      return "";
  }
}

int Fail(const Status& status, const ClientConfig* config) {
  std::cerr << "signetctl: " << status.ToString() << "\n";
  if (config != nullptr) {
    std::string hint = Hint(status, *config);
    if (!hint.empty()) {
      std::cerr << "signetctl: " << hint << "\n";
    }
  }
  return status.code() == Code::kPermissionDenied ? kExitPermission : kExitFailed;
}

int Run(const std::string& config_path, StatusOr<pb::Request> request) {
  if (!request.ok()) {
    std::cerr << "signetctl: " << request.status().message() << "\n";
    return kExitUsage;
  }
  if (config_path.empty()) {
    std::cerr << "signetctl: no client config: give --config FILE or set SIGNET_CONFIG "
                 "(tools/run.sh writes var/signetctl.toml)\n";
    return kExitUsage;
  }
  StatusOr<ClientConfig> config = LoadClientConfig(config_path);
  if (!config.ok()) {
    std::cerr << "signetctl: " << config.status().message() << "\n";
    return kExitUsage;
  }

  ipc::ClientOptions options;
  options.endpoints = config->endpoints;
  options.tls = ipc::TlsFiles{config->certificate, config->private_key, config->ca};
  options.server_name = config->server_name;
  options.connect_timeout = config->timeout;
  StatusOr<std::unique_ptr<ipc::Client>> client = ipc::Client::Create(options);
  if (!client.ok()) {
    std::cerr << "signetctl: " << config_path << ": " << client.status().message() << "\n";
    return kExitUsage;
  }

  StatusOr<pb::Response> response = (*client)->Call(std::move(request).value());
  if (!response.ok()) {
    return Fail(response.status(), &*config);
  }
  StatusOr<std::string> text = FormatResponse(*response);
  if (!text.ok()) {
    return Fail(text.status(), &*config);
  }
  std::cout << *text << std::flush;
  return 0;
}

}  // namespace
}  // namespace signet::ctl

int main(int argc, char** argv) {
  using namespace signet::ctl;
  using signet::ctl::kExitUsage;

  CLI::App app{"signetctl: mint credentials and read public keys from signetd"};
  app.require_subcommand(1);
  app.fallthrough();  // --config may also follow the subcommand
  std::string config_path;
  app.add_option("--config", config_path, "client config TOML (default: $SIGNET_CONFIG)")
      ->envname("SIGNET_CONFIG");

  CLI::App* mint = app.add_subcommand("mint", "mint a credential");
  mint->require_subcommand(1);

  JwtSvidArgs jwt;
  CLI::App* jwt_cmd = mint->add_subcommand("jwt-svid", "mint a JWT-SVID; prints the token");
  jwt_cmd->add_option("--sub", jwt.subject, "SPIFFE ID of the subject")->required();
  jwt_cmd->add_option("--aud", jwt.audiences, "audience (repeat for several)")->required();
  jwt_cmd->add_option("--ttl", jwt.ttl, "lifetime, e.g. 90s, 5m, 1h")->capture_default_str();

  AccessTokenArgs at;
  CLI::App* at_cmd = mint->add_subcommand(
      "access-token", "mint an OAuth access token (RFC 9068); prints the token");
  at_cmd->add_option("--sub", at.subject, "principal on whose behalf the token acts")->required();
  at_cmd->add_option("--aud", at.audiences, "audience (repeat for several)")->required();
  at_cmd->add_option("--client-id", at.client_id, "OAuth client_id")->required();
  at_cmd->add_option("--scope", at.scopes, "scope (repeat for several)");
  at_cmd->add_option("--act", at.actors,
                     "actor SPIFFE ID, repeated: the current actor first, back to the first");
  at_cmd->add_option("--ttl", at.ttl, "lifetime, e.g. 60s, 5m")->capture_default_str();

  X509SvidArgs x509;
  CLI::App* x509_cmd = mint->add_subcommand(
      "x509-svid", "issue an X.509-SVID from a CSR; prints the certificate and chain (PEM)");
  x509_cmd->add_option("--csr", x509.csr_file, "PKCS#10 request, PEM or DER")->required();
  x509_cmd->add_option("--sub", x509.subject, "SPIFFE ID for the URI SAN")->required();
  x509_cmd->add_option("--ttl", x509.ttl, "lifetime, e.g. 1h")->capture_default_str();

  SignArgs sign;
  CLI::App* sign_cmd = app.add_subcommand("sign", "sign a digest with a raw key; prints hex");
  sign_cmd->add_option("--key", sign.key_id, "key id granted for raw signing")->required();
  sign_cmd->add_option("--digest", sign.digest_hex, "the digest, hex")->required();
  sign_cmd->add_option("--encoding", sign.encoding, "ECDSA signature form: der or raw")
      ->capture_default_str();

  CLI::App* jwks_cmd = app.add_subcommand("jwks", "print the JWK Set");
  CLI::App* bundle_cmd = app.add_subcommand("bundle", "print the SPIFFE trust bundle");

  signet::tools::AddAuditCommands(app);  // audit verify | query | checkpoints (offline)

  // Custodian commands: offline, against the state directory and the devices.
  // Not yet: the same commands through signetd over mTLS (an `admin` grant); see custodian.h.
  CustodianEnv env;
  const char* user = std::getenv("USER");
  env.who = std::string("custodian:") + (user != nullptr ? user : "unknown");
  app.add_option("--daemon-config", env.daemon_config, "signetd.toml naming the backends")
      ->envname("SIGNETD_CONFIG");
  app.add_option("--state-dir", env.state_dir, "signetd's state directory")
      ->envname("SIGNET_STATE_DIR");
  app.add_option("--as", env.who, "who the transition is recorded as done by");
  app.add_flag("--json", env.json, "print JSON instead of a table");
  app.add_flag("--allow-software-ca", env.allow_software_ca,
               "let CA keys live in the software backend (development only)");

  CLI::App* key = app.add_subcommand("key", "inspect and change keys in the catalogue");
  key->require_subcommand(1);
  CLI::App* key_list = key->add_subcommand("list", "list every key");
  std::string kid;
  CLI::App* key_show = key->add_subcommand("show", "show one key and its history");
  key_show->add_option("KID", kid)->required();
  std::string purpose;
  std::string alg = "ES256";
  std::string backend;
  CLI::App* key_generate = key->add_subcommand("generate", "generate a prepared key");
  key_generate->add_option("--purpose", purpose, "jwt, x509-ca, raw, audit")->required();
  key_generate->add_option("--alg", alg, "ES256, ES384, EdDSA, PS256, RS256")
      ->capture_default_str();
  key_generate->add_option("--backend", backend, "backend name in signetd.toml")->required();
  CLI::App* key_rotate = key->add_subcommand("rotate", "prepare a key and activate it now");
  key_rotate->add_option("--purpose", purpose)->required();
  CLI::App* key_activate = key->add_subcommand("activate", "make a prepared key sign");
  key_activate->add_option("KID", kid)->required();
  CLI::App* key_retire = key->add_subcommand("retire", "stop a key signing");
  key_retire->add_option("KID", kid)->required();
  bool force = false;
  bool yes = false;
  CLI::App* key_destroy = key->add_subcommand("destroy", "remove a key from its device");
  key_destroy->add_option("KID", kid)->required();
  key_destroy->add_flag("--force", force, "even while credentials it signed are valid");
  key_destroy->add_flag("--yes", yes, "do not ask for confirmation");

  CLI::App* deny = app.add_subcommand("deny", "terminate identities");
  deny->require_subcommand(1);
  std::string subject;
  std::string reason;
  CLI::App* deny_add = deny->add_subcommand("add", "refuse every credential for SUBJECT");
  deny_add->add_option("SUBJECT", subject)->required();
  deny_add->add_option("--reason", reason);
  CLI::App* deny_list = deny->add_subcommand("list", "list terminated identities");
  CLI::App* deny_remove = deny->add_subcommand("remove", "lift a termination");
  deny_remove->add_option("SUBJECT", subject)->required();

  CLI::App* ca = app.add_subcommand("ca", "the CA ceremony");
  ca->require_subcommand(1);
  CaArgs ca_args;
  CLI::App* init_root = ca->add_subcommand("init-root", "root key and self-signed certificate");
  CLI::App* issue_int =
      ca->add_subcommand("issue-intermediate", "intermediate key certified by the root");
  for (CLI::App* cmd : {init_root, issue_int}) {
    cmd->add_option("--backend", ca_args.backend, "backend name in signetd.toml")->required();
    cmd->add_option("--alg", ca_args.alg)->capture_default_str();
    cmd->add_option("--cn", ca_args.common_name, "subject common name")->required();
    cmd->add_option("--org", ca_args.organization);
    cmd->add_option("--trust-domain", ca_args.trust_domain);
    cmd->add_option("--ttl", ca_args.ttl)->capture_default_str();
    cmd->add_option("--path-length", ca_args.path_length);
  }

  CLI::App* status_cmd = app.add_subcommand("status", "keys per purpose and state, deny list");

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // an audit command failed and has said why
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  if (jwt_cmd->parsed()) {
    return Run(config_path, BuildJwtSvidRequest(jwt));
  }
  if (at_cmd->parsed()) {
    return Run(config_path, BuildAccessTokenRequest(at));
  }
  if (x509_cmd->parsed()) {
    return Run(config_path, BuildX509SvidRequest(x509));
  }
  if (sign_cmd->parsed()) {
    return Run(config_path, BuildSignRequest(sign));
  }
  if (jwks_cmd->parsed()) {
    return Run(config_path, BuildJwksRequest());
  }
  if (bundle_cmd->parsed()) {
    return Run(config_path, BuildBundleRequest());
  }

  std::ostream& out = std::cout;
  if (key_list->parsed()) {
    return RunCustodian([&] { return KeyList(env, out); });
  }
  if (key_show->parsed()) {
    return RunCustodian([&] { return KeyShow(env, kid, out); });
  }
  if (key_generate->parsed()) {
    return RunCustodian([&] { return KeyGenerate(env, purpose, alg, backend, out); });
  }
  if (key_rotate->parsed()) {
    return RunCustodian([&] { return KeyRotate(env, purpose, out); });
  }
  if (key_activate->parsed()) {
    return RunCustodian([&] { return KeyActivate(env, kid, out); });
  }
  if (key_retire->parsed()) {
    return RunCustodian([&] { return KeyRetire(env, kid, out); });
  }
  if (key_destroy->parsed()) {
    if (!yes && !ConfirmDestroy(kid)) {
      return 2;
    }
    return RunCustodian([&] { return KeyDestroy(env, kid, force, out); });
  }
  if (deny_add->parsed()) {
    return RunCustodian([&] { return DenyAdd(env, subject, reason, out); });
  }
  if (deny_list->parsed()) {
    return RunCustodian([&] { return DenyList(env, out); });
  }
  if (deny_remove->parsed()) {
    return RunCustodian([&] { return DenyRemove(env, subject, out); });
  }
  if (init_root->parsed()) {
    return RunCustodian([&] { return CaInitRoot(env, ca_args, out); });
  }
  if (issue_int->parsed()) {
    return RunCustodian([&] { return CaIssueIntermediate(env, ca_args, out); });
  }
  if (status_cmd->parsed()) {
    return RunCustodian([&] { return ShowStatus(env, out); });
  }
  return 0;  // an audit subcommand ran in its callback
}
