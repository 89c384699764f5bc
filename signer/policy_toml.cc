// Reading a Policy from TOML with toml++. Every error names the source, the key
// path and what is wrong with it.
#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "signer/policy.h"
#include "signer/spiffe_id.h"

namespace signet {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Status Error(const std::string& key, const std::string& what) const {
    return Status(Code::kInvalidArgument, source_ + ": " + key + ": " + what);
  }

  StatusOr<std::vector<std::string>> Strings(const toml::table& t, const std::string& where,
                                             const char* name) const {
    std::vector<std::string> out;
    const toml::node* node = t.get(name);
    if (node == nullptr) {
      return out;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return Error(where + "." + name, "must be an array of strings");
    }
    for (const toml::node& item : *array) {
      std::optional<std::string> value = item.value<std::string>();
      if (!value || value->empty()) {
        return Error(where + "." + name, "must hold only non-empty strings");
      }
      out.push_back(*value);
    }
    return out;
  }

  Status CheckPatterns(const std::vector<std::string>& patterns, const std::string& key) const {
    for (const std::string& p : patterns) {
      size_t star = p.find('*');
      if (star == std::string::npos) {
        continue;
      }
      bool whole = p == "*";
      bool tail =
          star == p.size() - 1 && p.size() >= 2 && (p[star - 1] == '/' || p[star - 1] == ':');
      if (!whole && !tail) {
        return Error(key,
                     "pattern '" + p + "': '*' is allowed only alone or after a final '/' or ':'");
      }
    }
    return OkStatus();
  }

  StatusOr<Grant> ReadGrant(const toml::table& t, const std::string& where) const {
    static const std::set<std::string, std::less<>> kKeys = {
        "id",      "operations",  "subjects",      "principals", "actors",    "audiences",
        "max_ttl", "require_act", "max_act_depth", "raw_keys",   "expires_at"};
    for (const auto& [key, value] : t) {
      if (kKeys.count(key.str()) == 0) {
        return Error(where + "." + std::string(key.str()), "unknown key");
      }
    }
    Grant g;
    std::optional<std::string> id = t["id"].value<std::string>();
    if (!id) {
      return Error(where + ".id", "is required and must be a string");
    }
    StatusOr<SpiffeId> parsed = SpiffeId::Parse(*id);
    if (!parsed.ok()) {
      return Error(where + ".id", parsed.status().message());
    }
    g.caller = *id;

    SIGNET_ASSIGN_OR_RETURN(std::vector<std::string> ops, Strings(t, where, "operations"));
    for (const std::string& name : ops) {
      StatusOr<Operation> op = ParseOperation(name);
      if (!op.ok()) {
        return Error(where + ".operations", op.status().message());
      }
      g.operations.insert(*op);
    }
    SIGNET_ASSIGN_OR_RETURN(g.subjects, Strings(t, where, "subjects"));
    SIGNET_ASSIGN_OR_RETURN(g.principals, Strings(t, where, "principals"));
    SIGNET_ASSIGN_OR_RETURN(g.actors, Strings(t, where, "actors"));
    SIGNET_ASSIGN_OR_RETURN(g.audiences, Strings(t, where, "audiences"));
    SIGNET_RETURN_IF_ERROR(CheckPatterns(g.subjects, where + ".subjects"));
    SIGNET_RETURN_IF_ERROR(CheckPatterns(g.principals, where + ".principals"));
    SIGNET_RETURN_IF_ERROR(CheckPatterns(g.actors, where + ".actors"));
    SIGNET_RETURN_IF_ERROR(CheckPatterns(g.audiences, where + ".audiences"));
    SIGNET_ASSIGN_OR_RETURN(std::vector<std::string> raw, Strings(t, where, "raw_keys"));
    g.raw_keys.insert(raw.begin(), raw.end());

    SIGNET_RETURN_IF_ERROR(ReadTtls(t, where, &g));

    if (const toml::node* n = t.get("require_act")) {
      std::optional<bool> b = n->value<bool>();
      if (!b) {
        return Error(where + ".require_act", "must be true or false");
      }
      g.require_act = *b;
    }
    if (const toml::node* n = t.get("max_act_depth")) {
      std::optional<int64_t> depth = n->value<int64_t>();
      if (!depth || *depth < 0 || *depth > 32) {
        return Error(where + ".max_act_depth", "must be an integer from 0 to 32");
      }
      g.max_act_depth = static_cast<size_t>(*depth);
    }
    if (g.require_act && g.max_act_depth == 0) {
      return Error(where + ".max_act_depth", "must be at least 1 when require_act is true");
    }
    if (const toml::node* n = t.get("expires_at")) {
      SIGNET_ASSIGN_OR_RETURN(g.expires_at, ReadTime(*n, where + ".expires_at"));
    }
    return g;
  }

 private:
  Status ReadTtls(const toml::table& t, const std::string& where, Grant* g) const {
    const toml::node* node = t.get("max_ttl");
    if (node == nullptr) {
      return OkStatus();
    }
    const toml::table* ttls = node->as_table();
    if (ttls == nullptr) {
      return Error(where + ".max_ttl", "must be a table of operation = seconds");
    }
    for (const auto& [key, value] : *ttls) {
      std::string k = where + ".max_ttl." + std::string(key.str());
      StatusOr<Operation> op = ParseOperation(key.str());
      if (!op.ok()) {
        return Error(k, op.status().message());
      }
      std::optional<int64_t> seconds = value.value<int64_t>();
      if (!seconds || *seconds <= 0) {
        return Error(k, "must be a positive integer (seconds)");
      }
      g->max_ttl[*op] = Seconds(*seconds);
    }
    return OkStatus();
  }

  StatusOr<TimePoint> ReadTime(const toml::node& node, const std::string& key) const {
    const toml::value<toml::date_time>* dt = node.as_date_time();
    if (dt == nullptr || !dt->get().offset) {
      return Error(key, "must be a date-time with a time zone offset, e.g. 2027-01-01T00:00:00Z");
    }
    const toml::date_time& v = dt->get();
    std::chrono::year_month_day ymd{std::chrono::year(v.date.year),
                                    std::chrono::month(v.date.month), std::chrono::day(v.date.day)};
    if (!ymd.ok()) {
      return Error(key, "is not a valid date");
    }
    auto t = std::chrono::sys_days(ymd) + std::chrono::hours(v.time.hour) +
             std::chrono::minutes(v.time.minute) + Seconds(v.time.second) -
             std::chrono::minutes(v.offset->minutes);
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(t.time_since_epoch()));
  }

  std::string source_;
};

}  // namespace

StatusOr<Policy> Policy::FromToml(std::string_view text, std::string_view source) {
  Reader reader(source);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return reader.Error(
        "line " + std::to_string(where.line) + ", column " + std::to_string(where.column),
        std::string(e.description()));
  }
  for (const auto& [key, value] : root) {
    if (key.str() != "caller") {
      return reader.Error(std::string(key.str()), "unknown key (expected [[caller]] tables)");
    }
  }

  std::vector<Grant> grants;
  if (const toml::node* node = root.get("caller")) {
    const toml::array* callers = node->as_array();
    if (callers == nullptr) {
      return reader.Error("caller", "must be an array of tables ([[caller]])");
    }
    for (size_t i = 0; i < callers->size(); ++i) {
      std::string where = "caller[" + std::to_string(i) + "]";
      const toml::table* t = (*callers)[i].as_table();
      if (t == nullptr) {
        return reader.Error(where, "must be a table");
      }
      SIGNET_ASSIGN_OR_RETURN(Grant grant, reader.ReadGrant(*t, where));
      for (const Grant& other : grants) {
        if (other.caller == grant.caller) {
          return reader.Error(where + ".id", "caller '" + grant.caller + "' has two grants");
        }
      }
      grants.push_back(std::move(grant));
    }
  }
  return Policy(std::move(grants));
}

StatusOr<Policy> Policy::FromTomlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Code::kNotFound, "cannot read policy file '" + path + "'");
  }
  std::stringstream text;
  text << in.rdbuf();
  return FromToml(text.str(), path);
}

}  // namespace signet
