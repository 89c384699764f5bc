#include "tools/custodian/admin_service.h"

#include <boost/json.hpp>

#include <ctime>
#include <map>

namespace signet::custodian {
namespace {

namespace json = boost::json;

std::string Time(std::optional<TimePoint> t) {
  if (!t) {
    return "-";
  }
  std::time_t secs = static_cast<std::time_t>(UnixSeconds(*t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

json::object KeyJson(const KeyRecord& k) {
  json::object o;
  o["kid"] = k.kid;
  o["purpose"] = PurposeName(k.purpose);
  if (k.ca_role != CaRole::kNone) {
    o["ca_role"] = CaRoleName(k.ca_role);
  }
  o["algorithm"] = AlgorithmName(k.algorithm);
  o["backend"] = k.backend;
  o["backend_ref"] = k.backend_ref;
  o["state"] = KeyStateName(k.state);
  o["not_after"] = Time(k.not_after);
  o["latest_signed_expiry"] = Time(k.latest_signed_expiry);
  json::array history;
  for (const KeyTransition& t : k.history) {
    history.push_back(json::object{
        {"to", KeyStateName(t.to)}, {"at", Time(t.at)}, {"by", t.by}, {"reason", t.reason}});
  }
  o["history"] = std::move(history);
  return o;
}

AdminOutcome Transitions(std::vector<KeyTransitionRecord> records) {
  AdminOutcome outcome;
  json::array array;
  for (const KeyTransitionRecord& r : records) {
    array.push_back(json::object{{"kid", r.kid},
                                 {"purpose", PurposeName(r.purpose)},
                                 {"from", r.from ? KeyStateName(*r.from) : "-"},
                                 {"to", KeyStateName(r.to)},
                                 {"at", Time(r.at)},
                                 {"by", r.by},
                                 {"reason", r.reason}});
  }
  outcome.document = std::move(array);
  outcome.transitions = std::move(records);
  return outcome;
}

StatusOr<AdminOutcome> Transitions(StatusOr<std::vector<KeyTransitionRecord>> records) {
  SIGNET_RETURN_IF_ERROR(records.status());
  return Transitions(std::move(records).value());
}

StatusOr<AdminOutcome> Transitions(StatusOr<KeyTransitionRecord> record) {
  SIGNET_RETURN_IF_ERROR(record.status());
  return Transitions(std::vector<KeyTransitionRecord>{std::move(record).value()});
}

Status Require(const std::string& value, std::string_view field, pb::AdminCommand command) {
  if (value.empty()) {
    return Status(Code::kInvalidArgument, std::string(AdminCommandName(command)) + ": " +
                                              std::string(field) + " is required");
  }
  return OkStatus();
}

// The algorithm named in the request; ES256 when it names none.
StatusOr<Algorithm> RequestAlgorithm(const pb::AdminRequest& request) {
  return request.algorithm().empty() ? Algorithm::kES256 : ParseAlgorithm(request.algorithm());
}

// The backend of the purpose's active key (an intermediate for x509-ca), or "".
std::string BackendOfActive(const Catalogue& catalogue, Purpose purpose) {
  for (const KeyRecord& k : catalogue.keys) {
    if (k.purpose == purpose && k.state == KeyState::kActive && k.ca_role != CaRole::kRoot) {
      return k.backend;
    }
  }
  return "";
}

StatusOr<CaCertificateSpec> CaSpec(const pb::AdminRequest& request) {
  const pb::CaParams& ca = request.ca();
  SIGNET_RETURN_IF_ERROR(Require(ca.common_name(), "a common name", request.command()));
  CaCertificateSpec spec;
  spec.common_name = ca.common_name();
  spec.organization = ca.organization();
  spec.trust_domain = ca.trust_domain();
  if (ca.ttl_seconds() != 0) {
    spec.ttl = Seconds(ca.ttl_seconds());
  }
  spec.path_length = ca.has_path_length() ? ca.path_length() : -1;
  return spec;
}

}  // namespace

std::string_view AdminCommandName(pb::AdminCommand command) {
  switch (command) {
    case pb::ADMIN_KEY_LIST:
      return "key.list";
    case pb::ADMIN_KEY_SHOW:
      return "key.show";
    case pb::ADMIN_KEY_GENERATE:
      return "key.generate";
    case pb::ADMIN_KEY_ROTATE:
      return "key.rotate";
    case pb::ADMIN_KEY_ACTIVATE:
      return "key.activate";
    case pb::ADMIN_KEY_RETIRE:
      return "key.retire";
    case pb::ADMIN_KEY_DESTROY:
      return "key.destroy";
    case pb::ADMIN_DENY_ADD:
      return "deny.add";
    case pb::ADMIN_DENY_LIST:
      return "deny.list";
    case pb::ADMIN_DENY_REMOVE:
      return "deny.remove";
    case pb::ADMIN_CA_INIT_ROOT:
      return "ca.init_root";
    case pb::ADMIN_CA_ISSUE_INTERMEDIATE:
      return "ca.issue_intermediate";
    case pb::ADMIN_STATUS:
      return "status";
    case pb::ADMIN_AUDIT_VERIFY:
      return "audit.verify";
    default:
      return "admin";
  }
}

bool IsMutation(pb::AdminCommand command) {
  switch (command) {
    case pb::ADMIN_KEY_LIST:
    case pb::ADMIN_KEY_SHOW:
    case pb::ADMIN_DENY_LIST:
    case pb::ADMIN_STATUS:
    case pb::ADMIN_AUDIT_VERIFY:
      return false;
    default:
      return true;
  }
}

StatusOr<AdminOutcome> AdminService::Run(const pb::AdminRequest& request, std::string_view who) {
  switch (request.command()) {
    case pb::ADMIN_KEY_LIST:
    case pb::ADMIN_KEY_SHOW:
    case pb::ADMIN_KEY_GENERATE:
    case pb::ADMIN_KEY_ROTATE:
    case pb::ADMIN_KEY_ACTIVATE:
    case pb::ADMIN_KEY_RETIRE:
    case pb::ADMIN_KEY_DESTROY:
      return RunKeyCommand(request, who);
    case pb::ADMIN_DENY_ADD:
    case pb::ADMIN_DENY_LIST:
    case pb::ADMIN_DENY_REMOVE:
      return RunDenyCommand(request, who);
    case pb::ADMIN_CA_INIT_ROOT:
    case pb::ADMIN_CA_ISSUE_INTERMEDIATE:
      return RunCaCommand(request, who);
    case pb::ADMIN_STATUS:
      return ShowStatus();
    default:
      return Status(Code::kInvalidArgument,
                    "admin request: unknown command " + std::to_string(request.command()));
  }
}

StatusOr<AdminOutcome> AdminService::RunKeyCommand(const pb::AdminRequest& request,
                                                   std::string_view who) {
  pb::AdminCommand command = request.command();
  if (command == pb::ADMIN_KEY_LIST) {
    Catalogue catalogue = keys_.Snapshot();
    json::array keys;
    for (const KeyRecord& k : catalogue.keys) {
      keys.push_back(KeyJson(k));
    }
    AdminOutcome outcome;
    outcome.document = json::object{{"version", catalogue.version}, {"keys", std::move(keys)}};
    return outcome;
  }
  if (command == pb::ADMIN_KEY_GENERATE || command == pb::ADMIN_KEY_ROTATE) {
    SIGNET_RETURN_IF_ERROR(Require(request.purpose(), "a purpose", command));
    SIGNET_ASSIGN_OR_RETURN(Purpose purpose, ParsePurpose(request.purpose()));
    if (command == pb::ADMIN_KEY_ROTATE) {
      return Transitions(keys_.Rotate(purpose, who));
    }
    std::string backend = request.backend();
    if (backend.empty()) {
      backend = BackendOfActive(keys_.Snapshot(), purpose);
    }
    SIGNET_RETURN_IF_ERROR(
        Require(backend, "a backend (no active key of this purpose to take it from)", command));
    SIGNET_ASSIGN_OR_RETURN(Algorithm alg, RequestAlgorithm(request));
    return Transitions(keys_.Generate(purpose, alg, backend, who));
  }

  const std::string& kid = request.key_id();
  SIGNET_RETURN_IF_ERROR(Require(kid, "a key id", command));
  switch (command) {
    case pb::ADMIN_KEY_SHOW: {
      Catalogue catalogue = keys_.Snapshot();
      const KeyRecord* k = catalogue.Find(kid);
      if (k == nullptr) {
        return Status(Code::kNotFound, "no key '" + kid + "' in the catalogue");
      }
      AdminOutcome outcome;
      outcome.document = KeyJson(*k);
      return outcome;
    }
    case pb::ADMIN_KEY_ACTIVATE:
      return Transitions(keys_.Activate(kid, who));
    case pb::ADMIN_KEY_RETIRE:
      return Transitions(keys_.Retire(kid, who));
    default:
      return Transitions(keys_.Destroy(kid, request.force(), who));
  }
}

StatusOr<AdminOutcome> AdminService::RunDenyCommand(const pb::AdminRequest& request,
                                                    std::string_view who) {
  AdminOutcome outcome;
  if (request.command() == pb::ADMIN_DENY_LIST) {
    json::array entries;
    for (const DenyEntry& e : deny_.List()) {
      entries.push_back(json::object{{"identity", e.identity},
                                     {"reason", e.reason},
                                     {"added_at", Time(e.added_at)},
                                     {"added_by", e.added_by}});
    }
    outcome.document = std::move(entries);
    return outcome;
  }

  const std::string& identity = request.subject();
  SIGNET_RETURN_IF_ERROR(Require(identity, "a subject", request.command()));
  if (request.command() == pb::ADMIN_DENY_REMOVE) {
    SIGNET_RETURN_IF_ERROR(deny_.Remove(identity));
    outcome.document = json::object{{"removed", identity}};
    outcome.deny_change = DenyChange{false, identity, ""};
    return outcome;
  }
  TimePoint now = SystemClock().Now();
  SIGNET_RETURN_IF_ERROR(deny_.Add(identity, request.reason(), std::string(who), now));
  outcome.document = json::object{
      {"identity", identity}, {"reason", request.reason()}, {"added_by", who}, {"at", Time(now)}};
  outcome.deny_change = DenyChange{true, identity, request.reason()};
  return outcome;
}

StatusOr<AdminOutcome> AdminService::RunCaCommand(const pb::AdminRequest& request,
                                                  std::string_view who) {
  SIGNET_RETURN_IF_ERROR(Require(request.backend(), "a backend", request.command()));
  SIGNET_ASSIGN_OR_RETURN(Algorithm alg, RequestAlgorithm(request));
  SIGNET_ASSIGN_OR_RETURN(CaCertificateSpec spec, CaSpec(request));
  if (request.command() == pb::ADMIN_CA_INIT_ROOT) {
    return Transitions(keys_.InitRoot(alg, request.backend(), spec, who));
  }
  return Transitions(keys_.IssueIntermediate(alg, request.backend(), spec, who));
}

AdminOutcome AdminService::ShowStatus() const {
  Catalogue catalogue = keys_.Snapshot();
  std::map<std::string, std::map<std::string, std::vector<std::string>>> by_purpose;
  for (const KeyRecord& k : catalogue.keys) {
    std::string purpose(PurposeName(k.purpose));
    if (k.ca_role != CaRole::kNone) {
      purpose += "/" + std::string(CaRoleName(k.ca_role));
    }
    by_purpose[purpose][std::string(KeyStateName(k.state))].push_back(k.kid);
  }
  json::object purposes;
  for (const auto& [purpose, states] : by_purpose) {
    json::object o;
    for (const auto& [state, kids] : states) {
      o[state] = json::value_from(kids);
    }
    purposes[purpose] = std::move(o);
  }
  AdminOutcome outcome;
  outcome.document = json::object{{"catalogue_version", catalogue.version},
                                  {"purposes", std::move(purposes)},
                                  {"denied", deny_.List().size()}};
  return outcome;
}

}  // namespace signet::custodian
