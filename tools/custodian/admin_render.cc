#include "tools/custodian/admin_render.h"

#include <boost/json.hpp>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace signet::custodian {
namespace {

namespace json = boost::json;
namespace pb = ::signet::ipc::pb;
using Rows = std::vector<std::vector<std::string>>;

// A member as text: strings as they are, anything else serialised, "-" when absent.
std::string Field(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  const json::value* member = o != nullptr ? o->if_contains(key) : nullptr;
  if (member == nullptr) {
    return "-";
  }
  if (const json::string* s = member->if_string()) {
    return std::string(*s);
  }
  return json::serialize(*member);
}

const json::array& ArrayOf(const json::value& v, std::string_view key = {}) {
  static const json::array kEmpty;
  const json::value* at = &v;
  if (!key.empty()) {
    const json::object* o = v.if_object();
    at = o != nullptr ? o->if_contains(key) : nullptr;
  }
  const json::array* a = at != nullptr ? at->if_array() : nullptr;
  return a != nullptr ? *a : kEmpty;
}

// Prints rows as columns padded to their widest cell.
void Table(std::ostream& out, const Rows& rows) {
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

std::string PurposeLabel(const json::value& key) {
  std::string role = Field(key, "ca_role");
  return Field(key, "purpose") + (role == "-" ? "" : "/" + role);
}

void KeyList(const json::value& doc, std::ostream& out) {
  Rows rows = {{"KID", "PURPOSE", "ALG", "BACKEND", "STATE", "NOT_AFTER", "SIGNED_VALID_UNTIL"}};
  for (const json::value& k : ArrayOf(doc, "keys")) {
    rows.push_back({Field(k, "kid"), PurposeLabel(k), Field(k, "algorithm"), Field(k, "backend"),
                    Field(k, "state"), Field(k, "not_after"), Field(k, "latest_signed_expiry")});
  }
  Table(out, rows);
}

void KeyShow(const json::value& k, std::ostream& out) {
  Table(out, {{"kid", Field(k, "kid")},
              {"purpose", PurposeLabel(k)},
              {"algorithm", Field(k, "algorithm")},
              {"backend", Field(k, "backend")},
              {"reference", Field(k, "backend_ref")},
              {"state", Field(k, "state")},
              {"not_after", Field(k, "not_after")},
              {"signed_valid_until", Field(k, "latest_signed_expiry")}});
  Rows rows = {{"TO", "AT", "BY", "REASON"}};
  for (const json::value& t : ArrayOf(k, "history")) {
    rows.push_back({Field(t, "to"), Field(t, "at"), Field(t, "by"), Field(t, "reason")});
  }
  out << "\n";
  Table(out, rows);
}

void TransitionTable(const json::value& doc, std::ostream& out) {
  Rows rows = {{"KID", "PURPOSE", "FROM", "TO", "AT", "BY"}};
  for (const json::value& r : ArrayOf(doc)) {
    rows.push_back({Field(r, "kid"), Field(r, "purpose"), Field(r, "from"), Field(r, "to"),
                    Field(r, "at"), Field(r, "by")});
  }
  Table(out, rows);
}

void DenyList(const json::value& doc, std::ostream& out) {
  Rows rows = {{"IDENTITY", "ADDED_AT", "ADDED_BY", "REASON"}};
  for (const json::value& e : ArrayOf(doc)) {
    rows.push_back(
        {Field(e, "identity"), Field(e, "added_at"), Field(e, "added_by"), Field(e, "reason")});
  }
  Table(out, rows);
}

void StatusTable(const json::value& doc, std::ostream& out) {
  Rows rows = {{"PURPOSE", "ACTIVE", "PREPARED", "RETIRED", "DESTROYED"}};
  const json::object* purposes = doc.is_object() && doc.as_object().contains("purposes")
                                     ? doc.as_object().at("purposes").if_object()
                                     : nullptr;
  for (const auto& [purpose, states] : purposes != nullptr ? *purposes : json::object()) {
    auto cell = [&states = states](std::string_view state) {
      const json::array& kids = ArrayOf(states, state);
      if (kids.empty()) {
        return std::string("-");
      }
      if (state != "active") {
        return std::to_string(kids.size());
      }
      std::string list;
      for (const json::value& kid : kids) {
        list += (list.empty() ? "" : ",") + std::string(kid.as_string());
      }
      return list;
    };
    rows.push_back({std::string(purpose), cell("active"), cell("prepared"), cell("retired"),
                    cell("destroyed")});
  }
  Table(out, rows);
  out << "\ncatalogue version " << Field(doc, "catalogue_version") << "; " << Field(doc, "denied")
      << " identities denied\n";
}

}  // namespace

void RenderAdmin(pb::AdminCommand command, const json::value& document, bool json,
                 std::ostream& out) {
  if (json) {
    out << json::serialize(document) << "\n";
    return;
  }
  switch (command) {
    case pb::ADMIN_KEY_LIST:
      return KeyList(document, out);
    case pb::ADMIN_KEY_SHOW:
      return KeyShow(document, out);
    case pb::ADMIN_DENY_ADD:
      out << "denied " << Field(document, "identity") << "\n";
      return;
    case pb::ADMIN_DENY_LIST:
      return DenyList(document, out);
    case pb::ADMIN_DENY_REMOVE:
      out << "removed " << Field(document, "removed") << "\n";
      return;
    case pb::ADMIN_STATUS:
      return StatusTable(document, out);
    default:
      return TransitionTable(document, out);
  }
}

}  // namespace signet::custodian
