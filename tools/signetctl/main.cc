// signetctl: the command line for signet.
//
//   signetctl [--config FILE] mint jwt-svid --sub SPIFFE_ID --aud AUD [--aud AUD...] [--ttl 5m]
//   signetctl mint access-token --sub SUB --aud AUD --client-id ID [--scope S] [--act SUB...]
//   signetctl mint x509-svid --csr FILE --sub SPIFFE_ID [--ttl 1h]
//   signetctl sign --key KID --digest HEX [--encoding der|raw]
//   signetctl jwks | bundle
//
// The client config comes from --config or $SIGNET_CONFIG. Exit status: 0 on success, 1 when
// signetd refused or failed the request, 2 for a usage or config error, 3 when the caller is
// not allowed (permission_denied).
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "ipc/client.h"
#include "tools/signetctl/client_config.h"
#include "tools/signetctl/commands.h"

namespace signet::ctl {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitPermission = 3;

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

  // Not yet: `signetctl audit verify|query` (branch audit, tools/signetctl/audit_commands.h).

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
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
  return 2;
}
