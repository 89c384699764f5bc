// signetctl: the command line for signet.
//
//   signetctl [--config FILE] mint jwt-svid --sub SPIFFE_ID --aud AUD [--aud AUD...] [--ttl 5m]
//   signetctl mint access-token --sub SUB --aud AUD --client-id ID [--scope S] [--act SUB...]
//   signetctl mint x509-svid --csr FILE --sub SPIFFE_ID [--ttl 1h]
//   signetctl sign --key KID --digest HEX [--encoding der|raw]
//   signetctl jwks | bundle
//   signetctl audit verify | query | checkpoints     (offline, on an audit log directory)
//   signetctl audit verify --signetd                 (signetd verifies its own log)
//
//   signetctl [--config custodian.toml] key|deny|ca|status ...     (custodian commands)
//     through signetd, which must grant the caller "admin"; or offline, with signetd stopped:
//   signetctl --daemon-config signetd.toml --state-dir DIR key|deny|ca|status ...
//   (custodian.h)
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

// The exit status for a custodian command that failed with `status`.
int CustodianExit(const Status& status) {
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

int MintExit(const Status& status) {
  return status.code() == Code::kPermissionDenied ? kExitPermission : kExitFailed;
}

int Fail(const Status& status, const ClientConfig* config, int (*exit_code)(const Status&)) {
  std::cerr << "signetctl: " << status.ToString() << "\n";
  if (config != nullptr) {
    std::string hint = Hint(status, *config);
    if (!hint.empty()) {
      std::cerr << "signetctl: " << hint << "\n";
    }
  }
  return exit_code(status);
}

// Sends `request` to signetd and hands the response to `print`; returns the exit status.
int Call(const std::string& config_path, StatusOr<pb::Request> request,
         const std::function<Status(const pb::Response&)>& print, int (*exit_code)(const Status&)) {
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
  Status printed = response.ok() ? print(*response) : response.status();
  if (!printed.ok()) {
    return Fail(printed, &*config, exit_code);
  }
  std::cout << std::flush;
  return 0;
}

int Run(const std::string& config_path, StatusOr<pb::Request> request) {
  auto print = [](const pb::Response& response) -> Status {
    SIGNET_ASSIGN_OR_RETURN(std::string text, FormatResponse(response));
    std::cout << text;
    return OkStatus();
  };
  return Call(config_path, std::move(request), print, MintExit);
}

// A custodian command: offline when a daemon config or state directory is given, otherwise
// through signetd with the client config.
int RunAdmin(const std::string& config_path, const CustodianEnv& env,
             StatusOr<pb::AdminRequest> admin) {
  if (!admin.ok()) {
    std::cerr << "signetctl: " << admin.status().message() << "\n";
    return kExitUsage;
  }
  if (!env.daemon_config.empty() || !env.state_dir.empty()) {
    Status status = RunOffline(env, *admin, std::cout);
    if (!status.ok()) {
      std::cerr << "signetctl: " << status.ToString() << "\n";
      return CustodianExit(status);
    }
    return 0;
  }
  pb::Request request;
  *request.mutable_admin() = *admin;
  auto print = [&](const pb::Response& response) {
    return PrintAdminResponse(*admin, response, env.json, std::cout);
  };
  return Call(config_path, request, print, CustodianExit);
}

// `audit verify --signetd`: signetd verifies its own log; exit 1 when it is altered.
int RunRemoteVerify(const std::string& config_path, const std::string& from_segment) {
  pb::Request request;
  request.mutable_admin()->set_command(pb::ADMIN_AUDIT_VERIFY);
  request.mutable_admin()->set_from_segment(from_segment);
  int verdict = 0;
  auto print = [&verdict](const pb::Response& response) {
    return PrintRemoteVerify(response, &verdict, std::cout);
  };
  int status = Call(config_path, request, print, CustodianExit);
  return status != 0 ? status : verdict;
}

pb::AdminRequest Admin(pb::AdminCommand command, std::string kid = "") {
  pb::AdminRequest request;
  request.set_command(command);
  request.set_key_id(std::move(kid));
  return request;
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

  // audit verify | query | checkpoints, offline; `audit verify --signetd` asks signetd.
  signet::tools::RemoteVerify remote_verify;
  signet::tools::AddAuditCommands(app, &remote_verify);

  // Custodian commands: through signetd (with --config), or offline with --daemon-config and
  // --state-dir (custodian.h).
  CustodianEnv env;
  const char* user = std::getenv("USER");
  env.who = std::string("custodian:") + (user != nullptr ? user : "unknown");
  app.add_option("--daemon-config", env.daemon_config, "signetd.toml naming the backends")
      ->envname("SIGNETD_CONFIG");
  app.add_option("--state-dir", env.state_dir, "signetd's state directory")
      ->envname("SIGNET_STATE_DIR");
  app.add_option("--as", env.who, "offline: who the change is recorded as done by");
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
  key_generate->add_option("--backend", backend,
                           "backend name in signetd.toml (default: that of the active key)");
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

  if (remote_verify.requested) {
    return RunRemoteVerify(config_path, remote_verify.from_segment);
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

  auto admin = [&](signet::StatusOr<pb::AdminRequest> request) {
    return RunAdmin(config_path, env, std::move(request));
  };
  if (key_list->parsed()) {
    return admin(Admin(pb::ADMIN_KEY_LIST));
  }
  if (key_show->parsed()) {
    return admin(Admin(pb::ADMIN_KEY_SHOW, kid));
  }
  if (key_generate->parsed() || key_rotate->parsed()) {
    pb::AdminRequest request =
        Admin(key_rotate->parsed() ? pb::ADMIN_KEY_ROTATE : pb::ADMIN_KEY_GENERATE);
    request.set_purpose(purpose);
    request.set_algorithm(alg);
    request.set_backend(backend);
    return admin(request);
  }
  if (key_activate->parsed()) {
    return admin(Admin(pb::ADMIN_KEY_ACTIVATE, kid));
  }
  if (key_retire->parsed()) {
    return admin(Admin(pb::ADMIN_KEY_RETIRE, kid));
  }
  if (key_destroy->parsed()) {
    if (!yes && !ConfirmDestroy(kid)) {
      return kExitUsage;
    }
    pb::AdminRequest request = Admin(pb::ADMIN_KEY_DESTROY, kid);
    request.set_force(force);
    return admin(request);
  }
  if (deny_add->parsed() || deny_remove->parsed()) {
    pb::AdminRequest request =
        Admin(deny_add->parsed() ? pb::ADMIN_DENY_ADD : pb::ADMIN_DENY_REMOVE);
    request.set_subject(subject);
    request.set_reason(reason);
    return admin(request);
  }
  if (deny_list->parsed()) {
    return admin(Admin(pb::ADMIN_DENY_LIST));
  }
  if (init_root->parsed()) {
    return admin(CaRequest(pb::ADMIN_CA_INIT_ROOT, ca_args));
  }
  if (issue_int->parsed()) {
    return admin(CaRequest(pb::ADMIN_CA_ISSUE_INTERMEDIATE, ca_args));
  }
  if (status_cmd->parsed()) {
    return admin(Admin(pb::ADMIN_STATUS));
  }
  return 0;  // an audit subcommand ran in its callback
}
