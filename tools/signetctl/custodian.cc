#include "tools/signetctl/custodian.h"

#include <boost/json.hpp>

#include <map>
#include <memory>
#include <ostream>

#include "signer/audit/log.h"
#include "signer/deny_list_store.h"
#include "signer/key_manager.h"
#include "tools/common/duration.h"
#include "tools/custodian/admin_audit.h"
#include "tools/custodian/admin_render.h"
#include "tools/custodian/admin_service.h"
#include "tools/custodian/verify_json.h"
#include "tools/signetctl/audit_commands.h"
#include "tools/signetd/backends.h"
#include "tools/signetd/config.h"

namespace signet::ctl {
namespace {

// Appends the records of a finished command; a change that cannot be recorded is reported.
Status Record(audit::AuditLog* log, const pb::AdminRequest& request, const std::string& who,
              const StatusOr<custodian::AdminOutcome>& outcome) {
  if (log == nullptr) {
    return OkStatus();
  }
  for (audit::AuditRecord& record : custodian::AdminAuditRecords(request, who, outcome)) {
    StatusOr<uint64_t> seq = log->AppendAndWait(std::move(record));
    if (!seq.ok()) {
      return seq.status().WithContext("the change was made but not recorded in the audit log: ");
    }
  }
  return OkStatus();
}

// The JSON document of an admin answer, or the error signetd answered with.
StatusOr<boost::json::value> AdminDocument(const pb::Response& response) {
  if (response.has_error()) {
    return ipc::StatusFromError(response.error());
  }
  if (!response.has_admin()) {
    return Status(Code::kInternal, "signetd answered an admin request with something else");
  }
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(response.admin().result_json(), ec);
  if (ec) {
    return Status(Code::kInternal, "signetd's admin answer is not JSON: " + ec.message());
  }
  return document;
}

}  // namespace

StatusOr<pb::AdminRequest> CaRequest(pb::AdminCommand command, const CaArgs& args) {
  pb::AdminRequest request;
  request.set_command(command);
  request.set_backend(args.backend);
  request.set_algorithm(args.alg);
  pb::CaParams* ca = request.mutable_ca();
  ca->set_common_name(args.common_name);
  ca->set_organization(args.organization);
  ca->set_trust_domain(args.trust_domain);
  SIGNET_ASSIGN_OR_RETURN(Seconds ttl, ParseDuration(args.ttl, "--ttl"));
  ca->set_ttl_seconds(static_cast<uint32_t>(ttl.count()));
  if (args.path_length >= 0) {
    ca->set_path_length(args.path_length);
  }
  return request;
}

Status RunOffline(const CustodianEnv& env, const pb::AdminRequest& request, std::ostream& out) {
  if (env.state_dir.empty()) {
    return Status(Code::kInvalidArgument, "no state directory: give --state-dir DIR");
  }
  SIGNET_ASSIGN_OR_RETURN(DaemonConfig config, LoadDaemonConfig(env.daemon_config));

  std::unique_ptr<audit::AuditLog> log;
  if (custodian::IsMutation(request.command()) && !config.audit_dir.empty()) {
    audit::AuditLog::Options options;
    options.dir = config.audit_dir;
    SIGNET_ASSIGN_OR_RETURN(log, audit::AuditLog::Open(options));
  }

  std::vector<std::unique_ptr<Backend>> owned;
  std::map<std::string, Backend*> named;
  for (const BackendConfig& b : config.backends) {
    StatusOr<std::unique_ptr<Backend>> backend = OpenBackend(b, config.check_rate);
    if (!backend.ok()) {
      return backend.status().WithContext("opening backend '" + b.name + "': ");
    }
    named[b.name] = backend->get();
    owned.push_back(std::move(*backend));
  }
  KeyManager::Options options;
  options.max_credential_ttl = LongestGrantedTtl(config);
  options.allow_software_ca = env.allow_software_ca;
  // No Minter: keys are loaded only when an operation needs one.
  KeyManager keys(options, std::make_shared<SystemClock>(),
                  std::make_shared<FileCatalogueStore>(env.state_dir), named, nullptr);
  SIGNET_RETURN_IF_ERROR(keys.Open());
  SIGNET_ASSIGN_OR_RETURN(auto deny,
                          DenyListStore::Open(env.state_dir, std::make_shared<DenyList>()));

  custodian::AdminService service(keys, *deny);
  StatusOr<custodian::AdminOutcome> outcome = service.Run(request, env.who);
  SIGNET_RETURN_IF_ERROR(Record(log.get(), request, env.who, outcome));
  SIGNET_RETURN_IF_ERROR(outcome.status());
  custodian::RenderAdmin(request.command(), outcome->document, env.json, out);
  return OkStatus();
}

Status PrintRemoteVerify(const pb::Response& response, int* verdict, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(boost::json::value document, AdminDocument(response));
  SIGNET_ASSIGN_OR_RETURN(audit::VerifyReport report, custodian::VerifyReportFromJson(document));
  *verdict = tools::PrintVerifyReport(report, " (signetd has no active audit key)", out);
  return OkStatus();
}

Status PrintAdminResponse(const pb::AdminRequest& request, const pb::Response& response, bool json,
                          std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(boost::json::value document, AdminDocument(response));
  custodian::RenderAdmin(request.command(), document, json, out);
  return OkStatus();
}

}  // namespace signet::ctl
