// signet-provision: puts development keys and CA certificates into a PKCS#11 token.
//
//   signet-provision dev-init --module M --token LABEL --pin-file F --trust-domain TD --out DIR
//
// generates, inside the token, a root CA key, an intermediate CA key, a JWT signing key and a
// raw-signing key (ES256, never extractable), self-signs the root and signs the intermediate
// with it through the backend, writes DIR/root.pem and DIR/intermediate.pem, and prints one
// line per key: "<label> <pkcs11 URI>", which tools/dev-init.sh writes into signetd.toml.
//
// This is the development shortcut run by tools/run.sh; the custodian's ceremony (separate
// root, quorum, offline root) is a later piece of work.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "backends/pkcs11/pkcs11_backend.h"
#include "signer/atomic_file.h"
#include "signer/ca.h"
#include "signer/clock.h"
#include "tools/common/pem.h"

namespace signet {
namespace {

struct DevInitOptions {
  std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  std::string token;
  std::string pin_file;
  std::string pin_env;
  std::string trust_domain = "example.org";
  std::string out_dir;
};

constexpr const char* kRootLabel = "dev-root-ca";
constexpr const char* kIntermediateLabel = "dev-intermediate-ca";
constexpr const char* kJwtLabel = "jwt-es256-1";
constexpr const char* kRawLabel = "raw-es256-1";
constexpr const char* kAuditLabel = "audit-es256-1";

constexpr Seconds kRootTtl{Seconds(10LL * 365 * 24 * 3600)};
constexpr Seconds kIntermediateTtl{Seconds(2LL * 365 * 24 * 3600)};

StatusOr<std::shared_ptr<SigningKey>> Generate(Backend& backend, const char* label,
                                               Purpose purpose) {
  KeySpec spec;
  spec.algorithm = Algorithm::kES256;
  spec.label = label;
  spec.purpose = purpose;
  StatusOr<std::shared_ptr<SigningKey>> key = backend.GenerateKey(spec);
  if (!key.ok()) {
    return key.status().WithContext(std::string("generating key '") + label + "': ");
  }
  return key;
}

Status DevInit(const DevInitOptions& options) {
  Pkcs11Backend::Options backend_options;
  backend_options.module_path = options.module;
  backend_options.token_label = options.token;
  backend_options.pin = SecretSource{options.pin_env, options.pin_file};
  SIGNET_ASSIGN_OR_RETURN(auto backend, Pkcs11Backend::Create(std::move(backend_options)));

  SIGNET_ASSIGN_OR_RETURN(auto root, Generate(*backend, kRootLabel, Purpose::kX509Ca));
  SIGNET_ASSIGN_OR_RETURN(auto intermediate,
                          Generate(*backend, kIntermediateLabel, Purpose::kX509Ca));
  SIGNET_ASSIGN_OR_RETURN(auto jwt, Generate(*backend, kJwtLabel, Purpose::kJwt));
  SIGNET_ASSIGN_OR_RETURN(auto raw, Generate(*backend, kRawLabel, Purpose::kRaw));
  SIGNET_ASSIGN_OR_RETURN(auto audit, Generate(*backend, kAuditLabel, Purpose::kAudit));

  SystemClock clock;
  CaCertificateSpec root_spec;
  root_spec.common_name = "signet development root CA";
  root_spec.organization = "signet development";
  root_spec.trust_domain = options.trust_domain;
  root_spec.ttl = kRootTtl;
  root_spec.path_length = 1;
  SIGNET_ASSIGN_OR_RETURN(Bytes root_der, CreateRootCertificate(*root, root_spec, clock));

  CaCertificateSpec intermediate_spec = root_spec;
  intermediate_spec.common_name = "signet development intermediate CA";
  intermediate_spec.ttl = kIntermediateTtl;
  intermediate_spec.path_length = 0;
  SIGNET_ASSIGN_OR_RETURN(Bytes intermediate_der,
                          CreateIntermediateCertificate(*root, root_der, intermediate->public_key(),
                                                        intermediate_spec, clock));

  std::filesystem::create_directories(options.out_dir);
  SIGNET_RETURN_IF_ERROR(
      WriteFileAtomically(options.out_dir + "/root.pem", CertificateToPem(root_der), 0644));
  SIGNET_RETURN_IF_ERROR(WriteFileAtomically(options.out_dir + "/intermediate.pem",
                                             CertificateToPem(intermediate_der), 0644));
  SIGNET_RETURN_IF_ERROR(WriteFileAtomically(options.out_dir + "/audit.pub.pem",
                                             PublicKeyToPem(audit->public_key().spki_der), 0644));

  std::cout << kRootLabel << " " << root->ref() << "\n"
            << kIntermediateLabel << " " << intermediate->ref() << "\n"
            << kJwtLabel << " " << jwt->ref() << "\n"
            << kRawLabel << " " << raw->ref() << "\n"
            << kAuditLabel << " " << audit->ref() << "\n";
  return OkStatus();
}

}  // namespace
}  // namespace signet

int main(int argc, char** argv) {
  CLI::App app{"signet-provision: development keys and CA certificates in a PKCS#11 token"};
  app.require_subcommand(1);

  signet::DevInitOptions options;
  CLI::App* dev_init = app.add_subcommand(
      "dev-init", "generate the development root, intermediate, JWT and raw keys in a token");
  dev_init->add_option("--module", options.module, "PKCS#11 module path")->capture_default_str();
  dev_init->add_option("--token", options.token, "token label")->required();
  auto* pin_file =
      dev_init->add_option("--pin-file", options.pin_file, "0600 file holding the user PIN");
  auto* pin_env = dev_init->add_option("--pin-env", options.pin_env,
                                       "environment variable holding the user PIN");
  pin_file->excludes(pin_env);
  dev_init->add_option("--trust-domain", options.trust_domain, "SPIFFE trust domain")
      ->capture_default_str();
  dev_init->add_option("--out", options.out_dir, "directory for root.pem and intermediate.pem")
      ->required();
  CLI11_PARSE(app, argc, argv);

  if (options.pin_file.empty() && options.pin_env.empty()) {
    std::cerr << "signet-provision: give --pin-file or --pin-env\n";
    return 2;
  }
  signet::Status status = signet::DevInit(options);
  if (!status.ok()) {
    std::cerr << "signet-provision: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
