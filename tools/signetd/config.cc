#include "tools/signetd/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "signer/policy.h"
#include "tools/common/duration.h"
#include "tools/common/toml_section.h"

namespace signet {
namespace {

// Keys that would put a secret into the config text. Refused with a pointer to the safe way.
constexpr std::string_view kSecretKeys[] = {"pin",        "so_pin",   "auth",
                                            "owner_auth", "password", "passphrase"};

Status RefuseInlineSecrets(const TomlSection& section) {
  for (std::string_view key : kSecretKeys) {
    if (section.Has(key)) {
      return section.Error(key,
                           "secrets are never written in the config; name an environment "
                           "variable with " +
                               std::string(key) + "_env or a 0600 file with " + std::string(key) +
                               "_file");
    }
  }
  return OkStatus();
}

// Reads `<name>_env` / `<name>_file`. Exactly one when `required`; at most one otherwise.
StatusOr<std::optional<SecretSource>> ReadSecretSource(TomlSection& section, std::string_view name,
                                                       bool required) {
  std::string env_key = std::string(name) + "_env";
  std::string file_key = std::string(name) + "_file";
  SIGNET_ASSIGN_OR_RETURN(std::string env, section.OptionalString(env_key));
  SIGNET_ASSIGN_OR_RETURN(std::string file, section.OptionalPath(file_key));
  if (!env.empty() && !file.empty()) {
    return section.Error(env_key, "give either " + env_key + " or " + file_key + ", not both");
  }
  if (env.empty() && file.empty()) {
    if (required) {
      return section.Error(env_key, "is required (or " + file_key +
                                        "): the environment variable or 0600 file holding it");
    }
    return std::optional<SecretSource>();
  }
  return std::optional<SecretSource>(SecretSource{env, file});
}

StatusOr<BackendType> ParseBackendType(TomlSection& section) {
  SIGNET_ASSIGN_OR_RETURN(std::string type, section.RequiredString("type"));
  if (type == "software") {
    return BackendType::kSoftware;
  }
  if (type == "pkcs11") {
    return BackendType::kPkcs11;
  }
  if (type == "tpm") {
    return BackendType::kTpm;
  }
  if (type == "slow-test") {
    return BackendType::kSlowTest;
  }
  return section.Error(
      "type", "unknown backend type '" + type + "'; expected software, pkcs11, tpm or slow-test");
}

StatusOr<BackendConfig> ReadBackend(TomlSection& section) {
  SIGNET_RETURN_IF_ERROR(RefuseInlineSecrets(section));

  BackendConfig out;
  SIGNET_ASSIGN_OR_RETURN(out.name, section.RequiredString("name"));
  SIGNET_ASSIGN_OR_RETURN(out.type, ParseBackendType(section));
  SIGNET_ASSIGN_OR_RETURN(out.workers, section.OptionalInteger("workers", 0, 0, 256));

  switch (out.type) {
    case BackendType::kSoftware: {
      SIGNET_ASSIGN_OR_RETURN(out.key_dir, section.OptionalPath("key_dir"));
      break;
    }
    case BackendType::kPkcs11: {
      SIGNET_ASSIGN_OR_RETURN(out.module, section.RequiredPath("module"));
      SIGNET_ASSIGN_OR_RETURN(out.token, section.RequiredString("token"));
      SIGNET_ASSIGN_OR_RETURN(out.sessions, section.OptionalInteger("sessions", 0, 0, 1024));
      SIGNET_ASSIGN_OR_RETURN(auto pin, ReadSecretSource(section, "pin", true));
      out.pin = *pin;
      break;
    }
    case BackendType::kTpm: {
      SIGNET_ASSIGN_OR_RETURN(out.tcti, section.RequiredString("tcti"));
      SIGNET_ASSIGN_OR_RETURN(out.key_dir, section.OptionalPath("key_dir"));
      SIGNET_ASSIGN_OR_RETURN(auto auth, ReadSecretSource(section, "auth", true));
      out.auth = *auth;
      SIGNET_ASSIGN_OR_RETURN(out.owner_auth, ReadSecretSource(section, "owner_auth", false));
      SIGNET_ASSIGN_OR_RETURN(std::string session, section.OptionalString("session", "hmac"));
      if (session != "hmac" && session != "password") {
        return section.Error("session", "expected hmac or password, got '" + session + "'");
      }
      out.password_session = session == "password";
      break;
    }
    case BackendType::kSlowTest: {
      SIGNET_ASSIGN_OR_RETURN(out.latency_us,
                              section.OptionalInteger("latency_us", 2000, 0, 10'000'000));
      SIGNET_ASSIGN_OR_RETURN(out.sessions, section.OptionalInteger("sessions", 32, 1, 4096));
      break;
    }
  }

  SIGNET_RETURN_IF_ERROR(section.CheckNoUnknownKeys());
  return out;
}

StatusOr<KeyConfig> ReadKey(TomlSection& section) {
  KeyConfig out;
  SIGNET_ASSIGN_OR_RETURN(out.id, section.RequiredString("id"));
  SIGNET_ASSIGN_OR_RETURN(out.backend, section.RequiredString("backend"));
  SIGNET_ASSIGN_OR_RETURN(out.ref, section.RequiredString("ref"));
  SIGNET_ASSIGN_OR_RETURN(std::string purpose, section.RequiredString("purpose"));
  StatusOr<Purpose> parsed = ParsePurpose(purpose);
  if (!parsed.ok()) {
    return section.Error("purpose",
                         "unknown purpose '" + purpose + "'; expected jwt, x509-ca, raw or audit");
  }
  out.purpose = *parsed;
  SIGNET_ASSIGN_OR_RETURN(out.certificate, section.OptionalPath("certificate"));
  SIGNET_ASSIGN_OR_RETURN(out.chain, section.OptionalPath("chain"));
  SIGNET_ASSIGN_OR_RETURN(out.allow_software, section.OptionalBool("allow_software", false));

  if (out.purpose == Purpose::kX509Ca && out.certificate.empty()) {
    return section.Error("certificate",
                         "is required for an x509-ca key: the PEM file with "
                         "this key's CA certificate");
  }
  if (out.purpose != Purpose::kX509Ca && (!out.certificate.empty() || !out.chain.empty())) {
    return section.Error("certificate", "only x509-ca keys have a certificate and chain");
  }
  SIGNET_RETURN_IF_ERROR(section.CheckNoUnknownKeys());
  return out;
}

Status ReadTlsFiles(TomlSection& section, TlsFiles* out) {
  SIGNET_ASSIGN_OR_RETURN(out->certificate, section.RequiredPath("certificate"));
  SIGNET_ASSIGN_OR_RETURN(out->private_key, section.RequiredPath("private_key"));
  return OkStatus();
}

Status ReadListen(TomlSection& section, std::string_view key, std::string* out) {
  SIGNET_ASSIGN_OR_RETURN(*out, section.OptionalString(key));
  if (out->empty()) {
    return OkStatus();
  }
  std::string host;
  uint16_t port = 0;
  Status parsed = ParseHostPort(*out, &host, &port);
  if (!parsed.ok()) {
    return section.Error(key, parsed.message());
  }
  return OkStatus();
}

Status ReadIpc(TomlSection& root, DaemonConfig* config) {
  SIGNET_ASSIGN_OR_RETURN(auto ipc, root.OptionalTable("ipc"));
  if (!ipc) {
    return root.Error("ipc", "the [ipc] table is required: where callers connect");
  }
  SIGNET_RETURN_IF_ERROR(ReadListen(*ipc, "listen", &config->ipc_listen));
  SIGNET_ASSIGN_OR_RETURN(config->ipc_unix_socket, ipc->OptionalPath("unix_socket"));
  if (config->ipc_listen.empty() && config->ipc_unix_socket.empty()) {
    return ipc->Error("listen", "give listen, unix_socket or both");
  }
  SIGNET_RETURN_IF_ERROR(ReadTlsFiles(*ipc, &config->ipc_tls));
  SIGNET_ASSIGN_OR_RETURN(config->ipc_client_ca, ipc->RequiredPath("client_ca"));
  return ipc->CheckNoUnknownKeys();
}

Status ReadHttps(TomlSection& root, DaemonConfig* config) {
  SIGNET_ASSIGN_OR_RETURN(auto https, root.OptionalTable("https"));
  if (!https) {
    return OkStatus();
  }
  SIGNET_RETURN_IF_ERROR(ReadListen(*https, "listen", &config->https_listen));
  if (config->https_listen.empty()) {
    return https->Error("listen", "is required in [https]");
  }
  config->https_tls = config->ipc_tls;
  if (https->Has("certificate") || https->Has("private_key")) {
    SIGNET_RETURN_IF_ERROR(ReadTlsFiles(*https, &config->https_tls));
  }
  return https->CheckNoUnknownKeys();
}

Status ReadMinter(TomlSection& root, DaemonConfig* config) {
  SIGNET_ASSIGN_OR_RETURN(auto minter, root.OptionalTable("minter"));
  if (!minter && config->KeysFromCatalogue()) {
    return OkStatus();  // the catalogue says which key signs
  }
  if (!minter) {
    return root.Error("minter", "the [minter] table is required: which key signs JWTs");
  }
  if (config->KeysFromCatalogue()) {
    // Only read when [[key]] entries are imported: they decide which of them start active.
    SIGNET_ASSIGN_OR_RETURN(config->jwt_key, minter->OptionalString("jwt_key"));
  } else {
    SIGNET_ASSIGN_OR_RETURN(config->jwt_key, minter->RequiredString("jwt_key"));
  }
  SIGNET_ASSIGN_OR_RETURN(config->x509_ca_key, minter->OptionalString("x509_ca_key"));
  SIGNET_ASSIGN_OR_RETURN(config->issuer, minter->OptionalString("issuer"));
  SIGNET_RETURN_IF_ERROR(minter->CheckNoUnknownKeys());

  const KeyConfig* jwt = config->FindKey(config->jwt_key);
  if (jwt == nullptr && config->jwt_key.empty()) {
    // A catalogue without [minter].jwt_key: nothing to check.
  } else if (jwt == nullptr) {
    return minter->Error("jwt_key", "no [[key]] has id '" + config->jwt_key + "'");
  }
  if (jwt != nullptr && jwt->purpose != Purpose::kJwt) {
    return minter->Error("jwt_key", "key '" + config->jwt_key + "' has purpose " +
                                        std::string(PurposeName(jwt->purpose)) + ", not jwt");
  }
  if (!config->x509_ca_key.empty()) {
    const KeyConfig* ca = config->FindKey(config->x509_ca_key);
    if (ca == nullptr) {
      return minter->Error("x509_ca_key", "no [[key]] has id '" + config->x509_ca_key + "'");
    }
    if (ca->purpose != Purpose::kX509Ca) {
      return minter->Error("x509_ca_key", "key '" + config->x509_ca_key + "' has purpose " +
                                              std::string(PurposeName(ca->purpose)) +
                                              ", not x509-ca");
    }
  }
  return OkStatus();
}

// Policy lives in the same file as top-level [[caller]] tables, or in the file `policy_file`
// names. Only the [[caller]] tables are handed on, re-serialised, so the policy parser sees
// nothing of the daemon's keys.
Status ReadPolicy(TomlSection& root, DaemonConfig* config) {
  SIGNET_ASSIGN_OR_RETURN(config->policy_file, root.OptionalPath("policy_file"));
  root.Accept("caller");
  const toml::node* callers = root.table().get("caller");
  if (!config->policy_file.empty() && callers != nullptr) {
    return root.Error("policy_file", "give either policy_file or [[caller]] tables, not both");
  }

  if (!config->policy_file.empty()) {
    std::ifstream in(config->policy_file, std::ios::binary);
    if (!in) {
      return root.Error("policy_file", "cannot read " + config->policy_file);
    }
    std::ostringstream text;
    text << in.rdbuf();
    config->policy_text = text.str();
    config->policy_source = config->policy_file;
    return OkStatus();
  }

  config->policy_source = config->path;
  if (callers != nullptr) {
    toml::table only_callers;
    only_callers.insert("caller", *callers);
    std::ostringstream text;
    text << only_callers;
    config->policy_text = text.str();
  }
  return OkStatus();
}

Status CheckKeys(const TomlSection& root, const DaemonConfig& config) {
  for (size_t i = 0; i < config.keys.size(); ++i) {
    const KeyConfig& key = config.keys[i];
    std::string where = "key[" + std::to_string(i) + "]";
    const BackendConfig* backend = config.FindBackend(key.backend);
    if (backend == nullptr) {
      return root.Error(where + ".backend", "no [[backend]] is named '" + key.backend + "'");
    }
    if (key.purpose == Purpose::kX509Ca && backend->type == BackendType::kSoftware &&
        !key.allow_software) {
      return root.Error(where + ".backend",
                        "an x509-ca key belongs in hardware; backend '" + key.backend +
                            "' is software (set allow_software = true for development only)");
    }
    for (size_t j = 0; j < i; ++j) {
      if (config.keys[j].id == key.id) {
        return root.Error(where + ".id", "id '" + key.id + "' is used twice");
      }
    }
  }
  for (size_t i = 0; i < config.backends.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (config.backends[j].name == config.backends[i].name) {
        return root.Error("backend[" + std::to_string(i) + "].name",
                          "name '" + config.backends[i].name + "' is used twice");
      }
    }
  }
  return OkStatus();
}

Status ReadRotationRule(TomlSection& section, const DaemonConfig& config, Purpose purpose,
                        RotationConfig* rotation) {
  RotationRule rule;
  SIGNET_ASSIGN_OR_RETURN(std::string lifetime, section.OptionalString("lifetime", "24h"));
  StatusOr<Seconds> parsed = ParseDuration(lifetime, section.KeyPath("lifetime"));
  if (!parsed.ok()) {
    return section.Error("lifetime", parsed.status().message());
  }
  if (*parsed < Seconds(60)) {
    return section.Error("lifetime", "must be at least 1m");
  }
  rule.lifetime = *parsed;
  SIGNET_ASSIGN_OR_RETURN(std::string alg, section.OptionalString("algorithm", "ES256"));
  StatusOr<Algorithm> algorithm = ParseAlgorithm(alg);
  if (!algorithm.ok()) {
    return section.Error("algorithm", algorithm.status().message());
  }
  rule.algorithm = *algorithm;
  SIGNET_ASSIGN_OR_RETURN(rule.backend, section.RequiredString("backend"));
  if (config.FindBackend(rule.backend) == nullptr) {
    return section.Error("backend", "no [[backend]] is named '" + rule.backend + "'");
  }
  if (purpose == Purpose::kX509Ca) {
    CaCertificateSpec& spec = rotation->intermediate;
    SIGNET_ASSIGN_OR_RETURN(spec.common_name, section.RequiredString("common_name"));
    SIGNET_ASSIGN_OR_RETURN(spec.organization, section.OptionalString("organization"));
    spec.trust_domain = config.trust_domain;
    spec.ttl = rule.lifetime;
    spec.path_length = 0;
  }
  SIGNET_RETURN_IF_ERROR(section.CheckNoUnknownKeys());
  rotation->rules[purpose] = rule;
  return OkStatus();
}

// [rotation]: the interval, and a [rotation.<purpose>] table per purpose rotated by rule.
Status ReadRotation(TomlSection& root, DaemonConfig* config) {
  SIGNET_ASSIGN_OR_RETURN(auto rotation, root.OptionalTable("rotation"));
  if (!rotation) {
    return OkStatus();
  }
  if (!config->KeysFromCatalogue()) {
    return root.Error("rotation", "needs state_dir: rotated keys live in the key catalogue");
  }
  RotationConfig& out = config->rotation;
  SIGNET_ASSIGN_OR_RETURN(std::string interval, rotation->OptionalString("interval", "10s"));
  StatusOr<Seconds> parsed = ParseDuration(interval, rotation->KeyPath("interval"));
  if (!parsed.ok() || *parsed < Seconds(1)) {
    return rotation->Error("interval", "expected a duration of at least 1s, like 10s");
  }
  out.interval = *parsed;
  SIGNET_ASSIGN_OR_RETURN(out.destroy_expired_keys,
                          rotation->OptionalBool("destroy_expired_keys", false));
  SIGNET_ASSIGN_OR_RETURN(out.allow_software_ca,
                          rotation->OptionalBool("allow_software_ca", false));
  for (Purpose purpose : {Purpose::kJwt, Purpose::kX509Ca}) {
    SIGNET_ASSIGN_OR_RETURN(auto rule, rotation->OptionalTable(PurposeName(purpose)));
    if (rule) {
      SIGNET_RETURN_IF_ERROR(ReadRotationRule(*rule, *config, purpose, &out));
    }
  }
  return rotation->CheckNoUnknownKeys();
}

}  // namespace

std::string_view BackendTypeName(BackendType type) {
  switch (type) {
    case BackendType::kSoftware:
      return "software";
    case BackendType::kPkcs11:
      return "pkcs11";
    case BackendType::kTpm:
      return "tpm";
    case BackendType::kSlowTest:
      return "slow-test";
  }
  return "unknown";
}

Seconds LongestGrantedTtl(const DaemonConfig& config) {
  Seconds longest{0};
  StatusOr<Policy> policy = Policy::FromToml(config.policy_text, config.policy_source);
  for (const Grant& g : policy.ok() ? policy->grants() : std::vector<Grant>()) {
    for (const auto& [op, ttl] : g.max_ttl) {
      longest = std::max(longest, ttl);
    }
  }
  return longest > Seconds(0) ? longest : Seconds(3600);
}

const KeyConfig* DaemonConfig::FindKey(const std::string& id) const {
  for (const KeyConfig& key : keys) {
    if (key.id == id) {
      return &key;
    }
  }
  return nullptr;
}

const BackendConfig* DaemonConfig::FindBackend(const std::string& name) const {
  for (const BackendConfig& backend : backends) {
    if (backend.name == name) {
      return &backend;
    }
  }
  return nullptr;
}

Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port) {
  std::string_view host_part;
  std::string_view port_part;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status(Code::kInvalidArgument,
                    "expected [ipv6]:port, got '" + std::string(text) + "'");
    }
    host_part = text.substr(1, close - 1);
    port_part = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return Status(Code::kInvalidArgument,
                    "expected host:port like 127.0.0.1:7443, got '" + std::string(text) + "'");
    }
    host_part = text.substr(0, colon);
    port_part = text.substr(colon + 1);
  }
  if (host_part.empty()) {
    return Status(Code::kInvalidArgument, "no host in '" + std::string(text) + "'");
  }
  if (port_part.empty() || port_part.size() > 5 ||
      port_part.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(port_part)) > 65535) {
    return Status(Code::kInvalidArgument,
                  "port must be a number from 0 to 65535 in '" + std::string(text) + "'");
  }
  *host = std::string(host_part);
  *port = static_cast<uint16_t>(std::stoi(std::string(port_part)));
  return OkStatus();
}

StatusOr<DaemonConfig> ParseDaemonConfig(std::string_view text, const std::string& path) {
  SIGNET_ASSIGN_OR_RETURN(toml::table table, TomlSection::ParseText(text, path));
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  TomlSection root(table, path, "", base_dir);

  DaemonConfig config;
  config.path = path;
  SIGNET_RETURN_IF_ERROR(RefuseInlineSecrets(root));
  SIGNET_ASSIGN_OR_RETURN(config.trust_domain, root.RequiredString("trust_domain"));
  SIGNET_ASSIGN_OR_RETURN(config.audit_dir, root.OptionalPath("audit_dir"));
  SIGNET_ASSIGN_OR_RETURN(config.audit_checkpoint_records,
                          root.OptionalInteger("audit_checkpoint_records", 10000, 1, 100000000));
  SIGNET_ASSIGN_OR_RETURN(
      config.audit_group_window_ms,
      root.OptionalInteger("audit_group_window_ms", config.audit_group_window_ms, 0, 1000));
  SIGNET_ASSIGN_OR_RETURN(
      int64_t one_in,
      root.OptionalInteger("ecdsa_check_one_in", CheckRate{}.ecdsa_one_in, 1, 1000000));
  config.check_rate.ecdsa_one_in = static_cast<uint32_t>(one_in);
  SIGNET_ASSIGN_OR_RETURN(config.state_dir, root.OptionalPath("state_dir"));

  SIGNET_ASSIGN_OR_RETURN(auto log, root.OptionalTable("log"));
  if (log) {
    SIGNET_ASSIGN_OR_RETURN(config.log_level, log->OptionalString("level", "info"));
    if (config.log_level != "debug" && config.log_level != "info" && config.log_level != "warn" &&
        config.log_level != "error") {
      return log->Error("level",
                        "expected debug, info, warn or error, got '" + config.log_level + "'");
    }
    SIGNET_RETURN_IF_ERROR(log->CheckNoUnknownKeys());
  }

  SIGNET_ASSIGN_OR_RETURN(auto backends, root.TableArray("backend"));
  if (backends.empty()) {
    return root.Error("backend", "at least one [[backend]] is required");
  }
  for (TomlSection& section : backends) {
    SIGNET_ASSIGN_OR_RETURN(BackendConfig backend, ReadBackend(section));
    config.backends.push_back(std::move(backend));
  }

  SIGNET_ASSIGN_OR_RETURN(auto keys, root.TableArray("key"));
  for (TomlSection& section : keys) {
    SIGNET_ASSIGN_OR_RETURN(KeyConfig key, ReadKey(section));
    config.keys.push_back(std::move(key));
  }
  SIGNET_RETURN_IF_ERROR(CheckKeys(root, config));

  SIGNET_RETURN_IF_ERROR(ReadMinter(root, &config));
  SIGNET_RETURN_IF_ERROR(ReadIpc(root, &config));
  SIGNET_RETURN_IF_ERROR(ReadHttps(root, &config));
  SIGNET_RETURN_IF_ERROR(ReadPolicy(root, &config));
  SIGNET_RETURN_IF_ERROR(ReadRotation(root, &config));
  SIGNET_RETURN_IF_ERROR(root.CheckNoUnknownKeys());
  return config;
}

StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return Status(Code::kNotFound, path + ": no such config file");
    }
    return Status(Code::kInvalidArgument, path + ": cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseDaemonConfig(text.str(), path);
}

}  // namespace signet
