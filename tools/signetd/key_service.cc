#include "tools/signetd/key_service.h"

#include <sys/stat.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "signer/x509_sign.h"
#include "tools/common/pem.h"
#include "tools/custodian/admin_audit.h"
#include "tools/custodian/admin_service.h"
#include "tools/signetd/log.h"

namespace signet {
namespace {

namespace asio = boost::asio;
namespace pb = ipc::pb;

constexpr auto kDenyListCheck = std::chrono::seconds(1);
constexpr std::string_view kImporter = "signetd/config";

// The file's identity and last change, to notice a rewrite by another process.
struct FileStamp {
  ino_t inode = 0;
  int64_t mtime_ns = -1;
  off_t size = -1;

  static FileStamp Of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return {};
    }
    return {st.st_ino, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, st.st_size};
  }
  bool operator==(const FileStamp&) const = default;
};

// The config's [[key]] entries as the catalogue takes them in: root CAs first (those of
// [[key]] entries, then, keyless, those that only end a chain file), then every other key.
StatusOr<std::vector<ImportedKey>> ConfiguredKeys(const DaemonConfig& config) {
  std::vector<ImportedKey> roots;
  std::vector<ImportedKey> chain_roots;
  std::vector<ImportedKey> others;
  for (const KeyConfig& k : config.keys) {
    ImportedKey key{k.id, k.purpose, k.backend, k.ref, {}, KeyState::kActive};
    if (k.purpose == Purpose::kJwt && !config.jwt_key.empty() && k.id != config.jwt_key) {
      key.state = KeyState::kPrepared;
    }
    if (k.purpose != Purpose::kX509Ca) {
      others.push_back(std::move(key));
      continue;
    }
    SIGNET_ASSIGN_OR_RETURN(std::vector<Bytes> certs, ReadCertificatesPem(k.certificate));
    key.cert_der = certs.front();
    if (!k.chain.empty()) {
      SIGNET_ASSIGN_OR_RETURN(std::vector<Bytes> chain, ReadCertificatesPem(k.chain));
      certs.insert(certs.end(), chain.begin(), chain.end());
    }
    for (size_t i = 1; i < certs.size(); ++i) {
      if (IsSelfSigned(certs[i])) {
        SIGNET_ASSIGN_OR_RETURN(ossl::X509Ptr root, ParseCertificate(certs[i]));
        std::string kid = "root-" + SubjectKeyIdHex(root.get());
        chain_roots.push_back({kid, Purpose::kX509Ca, "", "", certs[i], KeyState::kActive});
      }
    }
    if (IsSelfSigned(key.cert_der)) {
      roots.push_back(std::move(key));
      continue;
    }
    if (!config.x509_ca_key.empty() && k.id != config.x509_ca_key) {
      key.state = KeyState::kPrepared;
    }
    others.push_back(std::move(key));
  }
  for (ImportedKey& root : chain_roots) {
    bool known = std::any_of(roots.begin(), roots.end(), [&](const ImportedKey& r) {
      return r.cert_der == root.cert_der || r.kid == root.kid;
    });
    if (!known) {
      roots.push_back(std::move(root));
    }
  }
  roots.insert(roots.end(), others.begin(), others.end());
  return roots;
}

}  // namespace

struct KeyService::Worker {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
  asio::steady_timer tick{io};
  asio::steady_timer deny{io};
  FileStamp deny_stamp;
  std::thread thread;

  ~Worker() {
    guard.reset();
    io.stop();
    if (thread.joinable()) {
      thread.join();
    }
  }
};

StatusOr<std::unique_ptr<KeyService>> KeyService::Open(const DaemonConfig& config,
                                                       const KeyRing& ring, Minter& minter,
                                                       std::shared_ptr<DenyList> deny_list) {
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) {
    return Status(Code::kUnavailable,
                  config.path + ": state_dir: creating " + config.state_dir + ": " + ec.message());
  }
  std::unique_ptr<KeyService> service(new KeyService());
  service->interval_ = config.rotation.interval;
  SIGNET_ASSIGN_OR_RETURN(service->deny_store_,
                          DenyListStore::Open(config.state_dir, std::move(deny_list)));

  KeyManager::Options options;
  options.rotation = config.rotation.rules;
  options.max_credential_ttl = LongestGrantedTtl(config);
  options.destroy_expired_keys = config.rotation.destroy_expired_keys;
  options.allow_software_ca = config.rotation.allow_software_ca;
  options.intermediate_spec = config.rotation.intermediate;
  std::map<std::string, Backend*> backends;
  for (const auto& [name, backend] : ring.backends()) {
    backends[name] = backend.get();
  }
  service->keys_ = std::make_unique<KeyManager>(
      options, std::make_shared<SystemClock>(),
      std::make_shared<FileCatalogueStore>(config.state_dir), backends, &minter);

  SIGNET_ASSIGN_OR_RETURN(std::vector<ImportedKey> configured, ConfiguredKeys(config));
  for (const ImportedKey& key : configured) {
    StatusOr<std::optional<KeyTransitionRecord>> imported = service->keys_->Import(key, kImporter);
    if (!imported.ok()) {
      return imported.status().WithContext(config.path + ": ");
    }
    if (*imported) {
      service->opened_.push_back(**imported);
    }
  }
  SIGNET_RETURN_IF_ERROR(service->keys_->Open());
  SIGNET_ASSIGN_OR_RETURN(std::vector<KeyTransitionRecord> ticked, service->keys_->Tick());
  service->opened_.insert(service->opened_.end(), ticked.begin(), ticked.end());
  service->Refresh();
  return service;
}

KeyService::~KeyService() {
  worker_.reset();
}

void KeyService::Start(audit::AuditLog* log) {
  log_ = log;
  std::vector<audit::AuditRecord> records;
  for (const KeyTransitionRecord& t : opened_) {
    records.push_back(custodian::KeyTransitionAuditRecord(t));
  }
  opened_.clear();
  Record(std::move(records));

  worker_ = std::make_unique<Worker>();
  worker_->deny_stamp = FileStamp::Of(deny_store_->path());
  ArmTick();
  CheckDenyList();
  worker_->thread = std::thread([w = worker_.get()] { w->io.run(); });
}

void KeyService::Record(std::vector<audit::AuditRecord> records) {
  for (audit::AuditRecord& record : records) {
    logf::LogEvent(logf::Level::kInfo, logf::kKeyChange,
                   {{logf::kCaller, record.caller},
                    {logf::kOperation, record.op},
                    {logf::kKeyId, record.key},
                    {logf::kSubject, record.subject},
                    {logf::kReason, record.reason}});
    if (log_ == nullptr) {
      continue;
    }
    StatusOr<uint64_t> seq = log_->AppendAndWait(std::move(record));
    if (!seq.ok()) {
      logf::LogEvent(logf::Level::kError, logf::kAuditFailed,
                     {{logf::kError, seq.status().ToString()}});
    }
  }
}

void KeyService::Tick() {
  StatusOr<std::vector<KeyTransitionRecord>> changed = keys_->Tick();
  if (!changed.ok()) {
    logf::LogEvent(logf::Level::kError, logf::kKeyChange,
                   {{logf::kError, changed.status().ToString()}});
  } else if (!changed->empty()) {
    std::vector<audit::AuditRecord> records;
    for (const KeyTransitionRecord& t : *changed) {
      records.push_back(custodian::KeyTransitionAuditRecord(t));
    }
    Refresh();
    Record(std::move(records));
  }
  ArmTick();
}

void KeyService::ArmTick() {
  worker_->tick.expires_after(interval_);
  worker_->tick.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      Tick();
    }
  });
}

void KeyService::CheckDenyList() {
  FileStamp now = FileStamp::Of(deny_store_->path());
  if (!(now == worker_->deny_stamp)) {
    worker_->deny_stamp = now;
    Status reloaded = deny_store_->Reload();
    audit::AuditRecord record;
    record.caller = "signetd";
    record.op = "deny_list.reload";
    record.subject = deny_store_->path();
    record.granted = reloaded.ok();
    record.reason = reloaded.ok() ? std::to_string(deny_store_->List().size()) +
                                        " denied identities (the file changed)"
                                  : reloaded.ToString();
    Record({record});
  }
  worker_->deny.expires_after(kDenyListCheck);
  worker_->deny.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      CheckDenyList();
    }
  });
}

void KeyService::RunAdmin(const ipc::Caller& caller, const pb::AdminRequest& request,
                          ipc::ResponseCallback done) {
  asio::post(worker_->io, [this, who = caller.spiffe_id, request, done = std::move(done)] {
    custodian::AdminService service(*keys_, *deny_store_);
    StatusOr<custodian::AdminOutcome> outcome = service.Run(request, who);
    if (outcome.ok() && outcome->deny_change) {
      worker_->deny_stamp = FileStamp::Of(deny_store_->path());  // our own write
    }
    if (outcome.ok() && custodian::IsMutation(request.command())) {
      Refresh();
    }
    Record(custodian::AdminAuditRecords(request, who, outcome));

    if (!outcome.ok()) {
      done(ipc::ErrorResponse(outcome.status()));
      return;
    }
    pb::Response response;
    response.mutable_admin()->set_result_json(boost::json::serialize(outcome->document));
    done(std::move(response));
  });
}

void KeyService::Post(std::function<void()> job) {
  asio::post(worker_->io, std::move(job));
}

void KeyService::NoteIssued(const std::string& kid, TimePoint expires_at) {
  keys_->NoteIssued(kid, expires_at);
}

std::shared_ptr<SigningKey> KeyService::AuditKey() const {
  StatusOr<std::shared_ptr<SigningKey>> key = keys_->ActiveKey(Purpose::kAudit);
  return key.ok() ? *key : nullptr;
}

std::string KeyService::AuditKeyId() const {
  std::lock_guard<std::mutex> lock(mu_);
  return audit_kid_;
}

std::string KeyService::ActiveCaKid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_ca_kid_;
}

void KeyService::Refresh() {
  std::string ca;
  std::string audit;
  for (const KeyRecord& k : keys_->Snapshot().keys) {
    if (k.state != KeyState::kActive) {
      continue;
    }
    if (k.purpose == Purpose::kX509Ca && k.ca_role == CaRole::kIntermediate) {
      ca = k.kid;
    } else if (k.purpose == Purpose::kAudit) {
      audit = k.kid;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  active_ca_kid_ = std::move(ca);
  audit_kid_ = std::move(audit);
}

}  // namespace signet
