#include "signer/jwt_claims.h"

namespace signet {
namespace {

Status Bad(const std::string& what) {
  return Status(Code::kInternal, "minted JWT fails its read-back check: " + what);
}

StatusOr<std::string> StringMember(const boost::json::object& o, const char* name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return Bad(std::string("'") + name + "' is missing or not a string");
  }
  return std::string(v->as_string());
}

StatusOr<int64_t> IntMember(const boost::json::object& o, const char* name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_int64()) {
    return Bad(std::string("'") + name + "' is missing or not an integer");
  }
  return v->as_int64();
}

}  // namespace

boost::json::value AudienceClaim(const std::vector<std::string>& audiences) {
  if (audiences.size() == 1) {
    return boost::json::value(audiences.front());
  }
  boost::json::array array;
  for (const std::string& aud : audiences) {
    array.emplace_back(aud);
  }
  return array;
}

boost::json::object ActClaim(const std::vector<Actor>& actors) {
  boost::json::object inner;
  for (auto it = actors.rbegin(); it != actors.rend(); ++it) {
    boost::json::object level;
    level["sub"] = it->sub;
    if (!it->iss.empty()) {
      level["iss"] = it->iss;
    }
    if (it != actors.rbegin()) {
      level["act"] = std::move(inner);
    }
    inner = std::move(level);
  }
  return inner;
}

StatusOr<ReadClaims> ReadBackClaims(const boost::json::object& claims) {
  ReadClaims out;
  SIGNET_ASSIGN_OR_RETURN(out.sub, StringMember(claims, "sub"));
  SIGNET_ASSIGN_OR_RETURN(out.iat, IntMember(claims, "iat"));
  SIGNET_ASSIGN_OR_RETURN(out.exp, IntMember(claims, "exp"));

  const boost::json::value* aud = claims.if_contains("aud");
  if (aud != nullptr && aud->is_string()) {
    out.audiences.emplace_back(aud->as_string());
  } else if (aud != nullptr && aud->is_array()) {
    for (const boost::json::value& a : aud->as_array()) {
      if (!a.is_string()) {
        return Bad("'aud' holds a non-string");
      }
      out.audiences.emplace_back(a.as_string());
    }
  }
  if (out.audiences.empty()) {
    return Bad("'aud' is missing or empty");
  }

  const boost::json::value* act = claims.if_contains("act");
  while (act != nullptr) {
    if (!act->is_object()) {
      return Bad("'act' is not an object");
    }
    const boost::json::object& level = act->as_object();
    for (const auto& member : level) {
      if (member.key() != "sub" && member.key() != "iss" && member.key() != "act") {
        return Bad("an 'act' level holds '" + std::string(member.key()) + "'");
      }
    }
    Actor actor;
    SIGNET_ASSIGN_OR_RETURN(actor.sub, StringMember(level, "sub"));
    if (level.contains("iss")) {
      SIGNET_ASSIGN_OR_RETURN(actor.iss, StringMember(level, "iss"));
    }
    out.actors.push_back(std::move(actor));
    act = level.if_contains("act");
  }
  return out;
}

}  // namespace signet
