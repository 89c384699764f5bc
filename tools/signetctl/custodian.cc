#include "tools/signetctl/custodian.h"

#include <boost/json.hpp>

#include <ctime>
#include <iomanip>
#include <map>
#include <memory>
#include <ostream>

#include "signer/deny_list_store.h"
#include "signer/key_manager.h"
#include "signer/policy.h"
#include "tools/common/duration.h"
#include "tools/signetd/backends.h"
#include "tools/signetd/config.h"

namespace signet::ctl {
namespace {

namespace json = boost::json;

// The daemon config, its backends opened, and a KeyManager over the state directory.
struct Custodian {
  DaemonConfig config;
  std::vector<std::unique_ptr<Backend>> owned;
  std::unique_ptr<KeyManager> keys;
};

// The longest TTL any grant allows: how long a retired key's credentials may live.
// An hour when the policy cannot be read or grants nothing.
Seconds LongestGrantedTtl(const DaemonConfig& config) {
  Seconds longest{0};
  StatusOr<Policy> policy = Policy::FromToml(config.policy_text, config.policy_source);
  if (policy.ok()) {
    for (const Grant& g : policy->grants()) {
      for (const auto& [op, ttl] : g.max_ttl) {
        longest = std::max(longest, ttl);
      }
    }
  }
  return longest > Seconds(0) ? longest : Seconds(3600);
}

StatusOr<std::unique_ptr<Custodian>> OpenCustodian(const CustodianEnv& env) {
  if (env.state_dir.empty()) {
    return Status(Code::kInvalidArgument, "no state directory: give --state-dir DIR");
  }
  auto c = std::make_unique<Custodian>();
  SIGNET_ASSIGN_OR_RETURN(c->config, LoadDaemonConfig(env.daemon_config));
  std::map<std::string, Backend*> named;
  for (const BackendConfig& b : c->config.backends) {
    StatusOr<std::unique_ptr<Backend>> backend = OpenBackend(b);
    if (!backend.ok()) {
      return backend.status().WithContext("opening backend '" + b.name + "': ");
    }
    named[b.name] = backend->get();
    c->owned.push_back(std::move(*backend));
  }
  KeyManager::Options options;
  options.max_credential_ttl = LongestGrantedTtl(c->config);
  options.allow_software_ca = env.allow_software_ca;
  c->keys = std::make_unique<KeyManager>(options, std::make_shared<SystemClock>(),
                                         std::make_shared<FileCatalogueStore>(env.state_dir), named,
                                         nullptr);
  // Offline: only the catalogue is read here; keys are loaded when an operation needs them.
  return c;
}

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

std::string PurposeLabel(const KeyRecord& k) {
  std::string p(PurposeName(k.purpose));
  if (k.ca_role != CaRole::kNone) {
    p += "/" + std::string(CaRoleName(k.ca_role));
  }
  return p;
}

json::object RecordJson(const KeyRecord& k) {
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

json::object TransitionJson(const KeyTransitionRecord& r) {
  return json::object{{"kid", r.kid},
                      {"purpose", PurposeName(r.purpose)},
                      {"from", r.from ? KeyStateName(*r.from) : "-"},
                      {"to", KeyStateName(r.to)},
                      {"at", Time(r.at)},
                      {"by", r.by},
                      {"reason", r.reason}};
}

// Prints rows as columns padded to their widest cell.
void Table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << (i + 1 == row.size() ? row[i]
                                  : row[i] + std::string(width[i] - row[i].size() + 2, ' '));
    }
    out << "\n";
  }
}

void PrintTransitions(const CustodianEnv& env, const std::vector<KeyTransitionRecord>& records,
                      std::ostream& out) {
  if (env.json) {
    json::array array;
    for (const auto& r : records) {
      array.push_back(TransitionJson(r));
    }
    out << json::serialize(array) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {{"KID", "PURPOSE", "FROM", "TO", "AT", "BY"}};
  for (const auto& r : records) {
    rows.push_back({r.kid, std::string(PurposeName(r.purpose)),
                    r.from ? std::string(KeyStateName(*r.from)) : "-",
                    std::string(KeyStateName(r.to)), Time(r.at), r.by});
  }
  Table(out, rows);
}

template <typename T>
Status Print(const CustodianEnv& env, StatusOr<T> result, std::ostream& out) {
  SIGNET_RETURN_IF_ERROR(result.status());
  if constexpr (std::is_same_v<T, KeyTransitionRecord>) {
    PrintTransitions(env, {*result}, out);
  } else {
    PrintTransitions(env, *result, out);
  }
  return OkStatus();
}

StatusOr<CaCertificateSpec> CaSpec(const CaArgs& args) {
  if (args.common_name.empty()) {
    return Status(Code::kInvalidArgument, "--cn is required");
  }
  CaCertificateSpec spec;
  spec.common_name = args.common_name;
  spec.organization = args.organization;
  spec.trust_domain = args.trust_domain;
  spec.path_length = args.path_length;
  SIGNET_ASSIGN_OR_RETURN(spec.ttl, ParseDuration(args.ttl, "--ttl"));
  return spec;
}

}  // namespace

Status KeyList(const CustodianEnv& env, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(Catalogue c, FileCatalogueStore(env.state_dir).Load());
  if (env.json) {
    json::array array;
    for (const KeyRecord& k : c.keys) {
      array.push_back(RecordJson(k));
    }
    out << json::serialize(json::object{{"version", c.version}, {"keys", array}}) << "\n";
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows = {
      {"KID", "PURPOSE", "ALG", "BACKEND", "STATE", "NOT_AFTER", "SIGNED_VALID_UNTIL"}};
  for (const KeyRecord& k : c.keys) {
    rows.push_back({k.kid, PurposeLabel(k), std::string(AlgorithmName(k.algorithm)), k.backend,
                    std::string(KeyStateName(k.state)), Time(k.not_after),
                    Time(k.latest_signed_expiry)});
  }
  Table(out, rows);
  return OkStatus();
}

Status KeyShow(const CustodianEnv& env, const std::string& kid, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(Catalogue c, FileCatalogueStore(env.state_dir).Load());
  const KeyRecord* k = c.Find(kid);
  if (k == nullptr) {
    return Status(Code::kNotFound, "no key '" + kid + "' in " + env.state_dir);
  }
  json::object o = RecordJson(*k);
  if (env.json) {
    out << json::serialize(o) << "\n";
    return OkStatus();
  }
  Table(out, {{"kid", k->kid},
              {"purpose", PurposeLabel(*k)},
              {"algorithm", std::string(AlgorithmName(k->algorithm))},
              {"backend", k->backend},
              {"reference", k->backend_ref},
              {"state", std::string(KeyStateName(k->state))},
              {"not_after", Time(k->not_after)},
              {"signed_valid_until", Time(k->latest_signed_expiry)}});
  std::vector<std::vector<std::string>> rows = {{"TO", "AT", "BY", "REASON"}};
  for (const KeyTransition& t : k->history) {
    rows.push_back({std::string(KeyStateName(t.to)), Time(t.at), t.by, t.reason});
  }
  out << "\n";
  Table(out, rows);
  return OkStatus();
}

Status KeyGenerate(const CustodianEnv& env, const std::string& purpose, const std::string& alg,
                   const std::string& backend, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(Purpose p, ParsePurpose(purpose));
  SIGNET_ASSIGN_OR_RETURN(Algorithm a, ParseAlgorithm(alg));
  SIGNET_ASSIGN_OR_RETURN(auto c, OpenCustodian(env));
  return Print(env, c->keys->Generate(p, a, backend, env.who), out);
}

Status KeyRotate(const CustodianEnv& env, const std::string& purpose, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(Purpose p, ParsePurpose(purpose));
  SIGNET_ASSIGN_OR_RETURN(auto c, OpenCustodian(env));
  return Print(env, c->keys->Rotate(p, env.who), out);
}

Status KeyActivate(const CustodianEnv& env, const std::string& kid, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(auto c, OpenCustodian(env));
  return Print(env, c->keys->Activate(kid, env.who), out);
}

Status KeyRetire(const CustodianEnv& env, const std::string& kid, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(auto c, OpenCustodian(env));
  return Print(env, c->keys->Retire(kid, env.who), out);
}

Status KeyDestroy(const CustodianEnv& env, const std::string& kid, bool force, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(auto c, OpenCustodian(env));
  return Print(env, c->keys->Destroy(kid, force, env.who), out);
}

Status DenyAdd(const CustodianEnv& env, const std::string& subject, const std::string& reason,
               std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(auto store,
                          DenyListStore::Open(env.state_dir, std::make_shared<signet::DenyList>()));
  TimePoint now = SystemClock().Now();
  SIGNET_RETURN_IF_ERROR(store->Add(subject, reason, env.who, now));
  if (env.json) {
    out << json::serialize(json::object{
               {"identity", subject}, {"reason", reason}, {"added_by", env.who}, {"at", Time(now)}})
        << "\n";
  } else {
    out << "denied " << subject << "\n";
  }
  return OkStatus();
}

Status DenyList(const CustodianEnv& env, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(auto store,
                          DenyListStore::Open(env.state_dir, std::make_shared<signet::DenyList>()));
  if (env.json) {
    json::array array;
    for (const DenyEntry& e : store->List()) {
      array.push_back(json::object{{"identity", e.identity},
                                   {"reason", e.reason},
                                   {"added_at", Time(e.added_at)},
                                   {"added_by", e.added_by}});
    }
    out << json::serialize(array) << "\n";
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows = {{"IDENTITY", "ADDED_AT", "ADDED_BY", "REASON"}};
  for (const DenyEntry& e : store->List()) {
    rows.push_back({e.identity, Time(e.added_at), e.added_by, e.reason});
  }
  Table(out, rows);
  return OkStatus();
}

Status DenyRemove(const CustodianEnv& env, const std::string& subject, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(auto store,
                          DenyListStore::Open(env.state_dir, std::make_shared<signet::DenyList>()));
  SIGNET_RETURN_IF_ERROR(store->Remove(subject));
  out << (env.json ? "{\"removed\":" + json::serialize(json::value(subject)) + "}"
                   : "removed " + subject)
      << "\n";
  return OkStatus();
}

Status CaInitRoot(const CustodianEnv& env, const CaArgs& args, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(Algorithm a, ParseAlgorithm(args.alg));
  SIGNET_ASSIGN_OR_RETURN(CaCertificateSpec spec, CaSpec(args));
  SIGNET_ASSIGN_OR_RETURN(auto c, OpenCustodian(env));
  return Print(env, c->keys->InitRoot(a, args.backend, spec, env.who), out);
}

Status CaIssueIntermediate(const CustodianEnv& env, const CaArgs& args, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(Algorithm a, ParseAlgorithm(args.alg));
  SIGNET_ASSIGN_OR_RETURN(CaCertificateSpec spec, CaSpec(args));
  SIGNET_ASSIGN_OR_RETURN(auto c, OpenCustodian(env));
  return Print(env, c->keys->IssueIntermediate(a, args.backend, spec, env.who), out);
}

Status ShowStatus(const CustodianEnv& env, std::ostream& out) {
  SIGNET_ASSIGN_OR_RETURN(Catalogue c, FileCatalogueStore(env.state_dir).Load());
  SIGNET_ASSIGN_OR_RETURN(auto deny,
                          DenyListStore::Open(env.state_dir, std::make_shared<signet::DenyList>()));
  std::map<std::string, std::map<std::string, std::vector<std::string>>> by_purpose;
  for (const KeyRecord& k : c.keys) {
    by_purpose[PurposeLabel(k)][std::string(KeyStateName(k.state))].push_back(k.kid);
  }
  if (env.json) {
    json::object purposes;
    for (const auto& [purpose, states] : by_purpose) {
      json::object o;
      for (const auto& [state, kids] : states) {
        o[state] = json::value_from(kids);
      }
      purposes[purpose] = std::move(o);
    }
    out << json::serialize(json::object{{"catalogue_version", c.version},
                                        {"purposes", purposes},
                                        {"denied", deny->List().size()}})
        << "\n";
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows = {
      {"PURPOSE", "ACTIVE", "PREPARED", "RETIRED", "DESTROYED"}};
  for (const auto& [purpose, states] : by_purpose) {
    auto cell = [&](const char* state) {
      auto it = states.find(state);
      if (it == states.end()) {
        return std::string("-");
      }
      if (std::string(state) == "active") {
        std::string kids;
        for (const std::string& k : it->second) {
          kids += (kids.empty() ? "" : ",") + k;
        }
        return kids;
      }
      return std::to_string(it->second.size());
    };
    rows.push_back({purpose, cell("active"), cell("prepared"), cell("retired"), cell("destroyed")});
  }
  Table(out, rows);
  out << "\ncatalogue version " << c.version << "; " << deny->List().size()
      << " identities denied\n";
  return OkStatus();
}

}  // namespace signet::ctl
