#include "tools/signetd/daemon.h"

#include <openssl/x509.h>

#include "ipc/https_server.h"
#include "ipc/metrics.h"
#include "ipc/minter_handler.h"
#include "ipc/server.h"
#include "signer/ossl.h"
#include "tools/common/pem.h"
#include "tools/signetd/admin_handler.h"
#include "tools/signetd/audit_handler.h"
#include "tools/signetd/audit_watch.h"
#include "tools/signetd/key_service.h"
#include "tools/signetd/log.h"
#include "tools/signetd/logging_handler.h"

namespace signet {
namespace {

namespace logf = signet::logf;

// The SubjectPublicKeyInfo of a DER certificate.
StatusOr<Bytes> CertificateSpki(ByteView der) {
  const uint8_t* p = der.data();
  ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    return ossl::Error("d2i_X509", Code::kInvalidArgument);
  }
  return ossl::PublicKeyDer(X509_get0_pubkey(cert.get()));
}

// The CA that issues X.509-SVIDs: its key, its certificate (which must hold that key's public
// half), the intermediates above it and the roots, split by whether they sign themselves.
StatusOr<X509Authority> LoadAuthority(const LoadedKey& loaded, std::vector<Bytes>* roots) {
  const KeyConfig& config = *loaded.config;
  X509Authority authority;
  authority.key = loaded.key;
  authority.backend_verifies = loaded.backend_verifies;

  SIGNET_ASSIGN_OR_RETURN(std::vector<Bytes> certs, ReadCertificatesPem(config.certificate));
  authority.cert_der = certs.front();
  std::vector<Bytes> above(certs.begin() + 1, certs.end());
  if (!config.chain.empty()) {
    SIGNET_ASSIGN_OR_RETURN(std::vector<Bytes> chain, ReadCertificatesPem(config.chain));
    above.insert(above.end(), chain.begin(), chain.end());
  }
  for (Bytes& cert : above) {
    (IsSelfSigned(cert) ? *roots : authority.chain_der).push_back(std::move(cert));
  }

  SIGNET_ASSIGN_OR_RETURN(Bytes spki, CertificateSpki(authority.cert_der));
  if (spki != loaded.key->public_key().spki_der) {
    return Status(Code::kInvalidArgument, "key '" + config.id + "': the certificate in " +
                                              config.certificate +
                                              " is not for this key (public keys differ)");
  }
  return authority;
}

StatusOr<KeySet> BuildMinterKeys(const DaemonConfig& config, const KeyRing& ring) {
  KeySet keys;
  for (const auto& [kid, loaded] : ring.keys()) {
    switch (loaded.config->purpose) {
      case Purpose::kJwt:
        if (kid == config.jwt_key) {
          // A backend that already checked the signature spares the Minter a second check.
          keys.jwt_svid = JwtKey{kid, loaded.key, loaded.backend_verifies};
          keys.access_token = JwtKey{kid, loaded.key, loaded.backend_verifies};
        } else {
          keys.published_jwt.push_back(JwtKey{kid, loaded.key});
        }
        break;
      case Purpose::kX509Ca:
        if (kid == config.x509_ca_key) {
          SIGNET_ASSIGN_OR_RETURN(keys.x509_ca, LoadAuthority(loaded, &keys.x509_roots));
        }
        break;
      case Purpose::kRaw:
        keys.raw[kid] = RawKey{loaded.key, loaded.backend_verifies};
        break;
      case Purpose::kAudit:
        break;
    }
  }
  return keys;
}

void LogIpcEvent(const ipc::Event& event) {
  logf::LogEvent(
      event.severity == ipc::Event::Severity::kWarning ? logf::Level::kWarn : logf::Level::kInfo,
      event.kind,
      {{logf::kCaller, event.caller},
       {logf::kCount, std::to_string(event.connection_id)},
       {logf::kError, event.message}});
}

// A published document, or an empty key set (logged) when the Minter cannot build it.
std::string DocumentOrEmpty(StatusOr<std::string> document, std::string_view op) {
  if (document.ok()) {
    return std::move(document).value();
  }
  logf::LogEvent(logf::Level::kError, logf::kRequestFailed,
                 {{logf::kOperation, std::string(op)},
                  {logf::kCode, std::string(CodeName(document.status().code()))},
                  {logf::kError, document.status().message()}});
  return "{\"keys\":[]}";
}

ipc::TlsFiles IpcTls(const TlsFiles& files, const std::string& ca) {
  return ipc::TlsFiles{files.certificate, files.private_key, ca};
}

// The audit log in config.audit_dir, checkpointed with the active `audit` key of the catalogue
// (`key_service`) or else the first `audit` [[key]], when there is one.
// Not yet: a new audit key activated while signetd runs signs checkpoints after a restart.
StatusOr<std::unique_ptr<audit::AuditLog>> OpenAuditLog(const DaemonConfig& config,
                                                        const KeyRing& ring,
                                                        const KeyService* key_service) {
  audit::AuditLog::Options options;
  options.dir = config.audit_dir;
  options.checkpoint_every_records = static_cast<uint64_t>(config.audit_checkpoint_records);
  options.group_window = std::chrono::milliseconds(config.audit_group_window_ms);
  if (key_service != nullptr) {
    options.checkpoint_key = key_service->AuditKey();
    options.checkpoint_key_id = options.checkpoint_key ? key_service->AuditKeyId() : "";
  }
  for (const auto& [kid, loaded] : ring.keys()) {
    if (key_service == nullptr && loaded.config->purpose == Purpose::kAudit) {
      options.checkpoint_key = loaded.key;
      options.checkpoint_key_id = kid;
      break;
    }
  }
  StatusOr<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(options);
  if (!log.ok()) {
    return log.status().WithContext(config.path + ": audit_dir: ");
  }
  logf::LogEvent(logf::Level::kInfo, logf::kAuditOpened,
                 {{logf::kPath, config.audit_dir}, {logf::kKeyId, options.checkpoint_key_id}});
  return log;
}

// Records a change of what signetd enforces (the policy, the deny list) in the audit log.
// A failure is logged: the change has already happened and must not be undone for it.
void RecordChange(audit::AuditLog* log, std::string op, std::string subject, std::string reason,
                  std::string_view content) {
  if (log == nullptr) {
    return;
  }
  audit::AuditRecord record;
  record.caller = "signetd";
  record.op = std::move(op);
  record.subject = std::move(subject);
  record.reason = std::move(reason);
  record.digest = audit::Sha256Hex(content);
  StatusOr<uint64_t> seq = log->AppendAndWait(std::move(record));
  if (!seq.ok()) {
    logf::LogEvent(logf::Level::kError, logf::kAuditFailed,
                   {{logf::kError, seq.status().ToString()}});
  }
}

}  // namespace

// Declared in the order they are built; destroyed in reverse: listeners first.
struct Daemon::Parts {
  ipc::MetricsRegistry metrics;
  std::shared_ptr<DenyList> deny_list = std::make_shared<DenyList>();
  std::unique_ptr<Minter> minter;
  std::unique_ptr<audit::AuditLog> audit_log;  // outlives every handler that appends to it
  std::unique_ptr<AuditWatch> audit_watch;     // set with audit_log
  std::unique_ptr<KeyService> key_service;     // set when keys come from the catalogue
  std::unique_ptr<ipc::MinterHandler> handler;
  std::unique_ptr<AuditingHandler> auditing;  // wraps handler when audit_dir is set
  std::unique_ptr<AdminHandler> admin;        // custodian commands; passes the rest on
  std::unique_ptr<LoggingHandler> logging;    // wraps them all; the server calls this one
  std::unique_ptr<ipc::HttpsServer> https;
  std::unique_ptr<ipc::Server> server;
};

Daemon::Daemon() = default;

Daemon::~Daemon() {
  Stop();
}

Status Daemon::Start(const DaemonConfig& config) {
  config_ = config;
  SIGNET_ASSIGN_OR_RETURN(keys_, KeyRing::Open(config_));
  parts_ = std::make_unique<Parts>();

  SIGNET_ASSIGN_OR_RETURN(Policy policy,
                          Policy::FromToml(config_.policy_text, config_.policy_source));
  auto shared_policy = std::make_shared<const Policy>(std::move(policy));
  if (shared_policy->grants().empty()) {
    logf::LogEvent(logf::Level::kWarn, logf::kConfigLoaded,
                   {{logf::kConfig, config_.path},
                    {logf::kError,
                     "no [[caller]]: every request "
                     "will be refused"}});
  }

  Minter::Options minter_options;
  minter_options.trust_domain = config_.trust_domain;
  minter_options.jwt_svid_issuer = config_.issuer;
  minter_options.access_token_issuer = config_.issuer;
  minter_options.check_rate = config_.check_rate;
  // The catalogue keeps, per key, the latest expiry of what it signed (retirement needs it).
  minter_options.on_issued = [parts = parts_.get()](const AuditFields& issued) {
    if (parts->key_service != nullptr) {
      parts->key_service->NoteIssued(issued.kid, issued.expires_at);
    }
  };
  parts_->minter = std::make_unique<Minter>(minter_options, std::make_shared<SystemClock>(),
                                            shared_policy, parts_->deny_list);
  std::function<std::string()> x509_kid = [kid = config_.x509_ca_key] { return kid; };
  if (config_.KeysFromCatalogue()) {
    SIGNET_ASSIGN_OR_RETURN(parts_->key_service,
                            KeyService::Open(config_, *keys_, *parts_->minter, parts_->deny_list));
    x509_kid = [service = parts_->key_service.get()] { return service->ActiveCaKid(); };
  } else {
    SIGNET_ASSIGN_OR_RETURN(KeySet minter_keys, BuildMinterKeys(config_, *keys_));
    parts_->minter->SetKeys(std::move(minter_keys));
  }

  if (!config_.audit_dir.empty()) {
    SIGNET_ASSIGN_OR_RETURN(parts_->audit_log,
                            OpenAuditLog(config_, *keys_, parts_->key_service.get()));
    parts_->audit_watch = std::make_unique<AuditWatch>(*parts_->audit_log, parts_->metrics);
  }
  if (parts_->key_service != nullptr) {
    parts_->key_service->Start(parts_->audit_log.get());
  }
  RecordChange(parts_->audit_log.get(), "policy.load", config_.policy_source,
               std::to_string(shared_policy->grants().size()) + " caller grants",
               config_.policy_text);
  AuditWatch* watch = parts_->audit_watch.get();
  auto health = [watch] { return watch != nullptr ? watch->Health() : OkStatus(); };

  parts_->handler =
      std::make_unique<ipc::MinterHandler>(*parts_->minter, ipc::MinterHandler::Options{health});
  ipc::RequestHandler* inner = parts_->handler.get();
  if (parts_->audit_log != nullptr) {
    parts_->auditing = std::make_unique<AuditingHandler>(*inner, *parts_->audit_log, x509_kid);
    inner = parts_->auditing.get();
  }
  parts_->admin = std::make_unique<AdminHandler>(*inner, *parts_->minter, parts_->key_service.get(),
                                                 parts_->audit_log.get(), config_.audit_dir);
  parts_->logging = std::make_unique<LoggingHandler>(*parts_->admin, &parts_->metrics, x509_kid);

  parts_->metrics.Describe("signet_backend_queue_depth",
                           "signatures waiting for a backend worker, by backend");
  parts_->metrics.AddCollector([keys = keys_.get()](ipc::MetricsRegistry& registry) {
    for (const auto& [name, backend] : keys->backends()) {
      registry.SetGauge("signet_backend_queue_depth", {{"backend", name}},
                        static_cast<double>(backend->queue_depth()));
    }
  });

  if (!config_.https_listen.empty()) {
    ipc::HttpsOptions options;
    SIGNET_RETURN_IF_ERROR(ParseHostPort(config_.https_listen, &options.address, &options.port));
    options.tls = IpcTls(config_.https_tls, "");
    options.issuer = config_.issuer;
    Minter* minter = parts_->minter.get();
    ipc::DocumentProvider documents;
    documents.jwks_json = [minter] { return DocumentOrEmpty(minter->JwksJson(), "get_jwks"); };
    documents.bundle_json = [minter] {
      return DocumentOrEmpty(minter->SpiffeBundleJson(), "get_bundle");
    };
    documents.health = health;
    SIGNET_ASSIGN_OR_RETURN(
        parts_->https, ipc::HttpsServer::Start(options, documents, &parts_->metrics, LogIpcEvent));
    logf::LogEvent(
        logf::Level::kInfo, logf::kListen,
        {{logf::kTransport, "https"},
         {logf::kAddress, options.address + ":" + std::to_string(parts_->https->port())}});
  }

  ipc::ServerOptions options;
  options.tcp_address.clear();
  if (!config_.ipc_listen.empty()) {
    SIGNET_RETURN_IF_ERROR(
        ParseHostPort(config_.ipc_listen, &options.tcp_address, &options.tcp_port));
  }
  options.unix_path = config_.ipc_unix_socket;
  options.tls = IpcTls(config_.ipc_tls, config_.ipc_client_ca);
  SIGNET_ASSIGN_OR_RETURN(
      parts_->server, ipc::Server::Start(options, *parts_->logging, &parts_->metrics, LogIpcEvent));
  if (!options.tcp_address.empty()) {
    logf::LogEvent(
        logf::Level::kInfo, logf::kListen,
        {{logf::kTransport, "tcp"},
         {logf::kAddress, options.tcp_address + ":" + std::to_string(parts_->server->tcp_port())}});
  }
  if (!options.unix_path.empty()) {
    logf::LogEvent(logf::Level::kInfo, logf::kListen,
                   {{logf::kTransport, "unix"}, {logf::kPath, options.unix_path}});
  }
  return OkStatus();
}

void Daemon::Reload(const std::string& config_path) {
  StatusOr<DaemonConfig> fresh = LoadDaemonConfig(config_path);
  StatusOr<Policy> policy = fresh.ok() ? Policy::FromToml(fresh->policy_text, fresh->policy_source)
                                       : StatusOr<Policy>(fresh.status());
  if (!policy.ok()) {
    logf::LogEvent(logf::Level::kError, logf::kConfigError,
                   {{logf::kConfig, config_path}, {logf::kError, policy.status().message()}});
    return;
  }
  if (parts_ == nullptr || parts_->minter == nullptr) {
    return;
  }

  // Not yet: changed listen addresses, backends or [[key]] entries need a restart; only the
  // policy and the contents of the TLS files are reloaded. (Keys and the deny list kept in a
  // state_dir change without one: the KeyService watches them.)
  auto shared_policy = std::make_shared<const Policy>(std::move(policy).value());
  parts_->minter->SetPolicy(shared_policy);
  RecordChange(parts_->audit_log.get(), "policy.reload", fresh->policy_source,
               std::to_string(shared_policy->grants().size()) + " caller grants",
               fresh->policy_text);

  Status tls = parts_->server ? parts_->server->Reload() : OkStatus();
  if (tls.ok() && parts_->https) {
    tls = parts_->https->Reload();
  }
  if (!tls.ok()) {
    logf::LogEvent(logf::Level::kError, logf::kConfigError,
                   {{logf::kConfig, config_path}, {logf::kError, tls.message()}});
    return;
  }
  logf::LogEvent(logf::Level::kInfo, logf::kConfigReload,
                 {{logf::kConfig, config_path},
                  {logf::kCount, std::to_string(shared_policy->grants().size())}});
}

void Daemon::Stop() {
  if (parts_ != nullptr) {
    parts_->server.reset();
    parts_->https.reset();
  }
  parts_.reset();
  keys_.reset();
}

}  // namespace signet
