#include "signer/spiffe_id.h"

namespace signet {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr size_t kMaxTrustDomainBytes = 255;

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

Status Reject(std::string_view text, std::string_view rule) {
  std::string shown(text.substr(0, 120));
  if (text.size() > 120) {
    shown += "...";
  }
  return Status(Code::kInvalidArgument, "invalid SPIFFE ID '" + shown + "': " + std::string(rule));
}

Status CheckPath(std::string_view id, std::string_view path) {
  if (path.empty()) {
    return OkStatus();
  }
  if (path.back() == '/') {
    return Reject(id, "path must not end with '/'");
  }
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    std::string_view segment = path.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    if (segment.empty()) {
      return Reject(id, "path segments must not be empty ('//')");
    }
    if (segment == "." || segment == "..") {
      return Reject(id, "path segments must not be '.' or '..'");
    }
    for (char c : segment) {
      if (c == '%') {
        return Reject(id, "percent-encoding is not allowed in the path");
      }
      if (c == '?') {
        return Reject(id, "a query is not allowed");
      }
      if (c == '#') {
        return Reject(id, "a fragment is not allowed");
      }
      if (!IsPathChar(c)) {
        return Reject(id, "path characters must be letters, digits, '.', '-' or '_'; found '" +
                              std::string(1, c) + "'");
      }
    }
    pos = next == std::string_view::npos ? path.size() : next;
  }
  return OkStatus();
}

}  // namespace

Status SpiffeId::ValidateTrustDomain(std::string_view td) {
  if (td.empty()) {
    return Status(Code::kInvalidArgument, "trust domain is empty");
  }
  if (td.size() > kMaxTrustDomainBytes) {
    return Status(Code::kInvalidArgument, "trust domain is longer than 255 bytes");
  }
  for (char c : td) {
    if (!IsTrustDomainChar(c)) {
      return Status(Code::kInvalidArgument,
                    "trust domain '" + std::string(td) +
                        "' may hold only lower-case letters, digits, '.', '-' and '_'");
    }
  }
  return OkStatus();
}

StatusOr<SpiffeId> SpiffeId::Parse(std::string_view text) {
  if (text.empty()) {
    return Status(Code::kInvalidArgument, "invalid SPIFFE ID: empty");
  }
  if (text.size() > kMaxSpiffeIdBytes) {
    return Reject(text, "longer than 2048 bytes");
  }
  if (text.substr(0, kScheme.size()) != kScheme) {
    return Reject(text, "scheme must be 'spiffe' followed by '://'");
  }

  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.empty()) {
    return Reject(text, "trust domain is missing");
  }
  if (authority.find('@') != std::string_view::npos) {
    return Reject(text, "userinfo is not allowed");
  }
  if (authority.find(':') != std::string_view::npos) {
    return Reject(text, "a port is not allowed");
  }
  if (authority.find('?') != std::string_view::npos) {
    return Reject(text, "a query is not allowed");
  }
  if (authority.find('#') != std::string_view::npos) {
    return Reject(text, "a fragment is not allowed");
  }
  if (authority.find('%') != std::string_view::npos) {
    return Reject(text, "percent-encoding is not allowed in the trust domain");
  }
  if (authority.size() > kMaxTrustDomainBytes) {
    return Reject(text, "trust domain is longer than 255 bytes");
  }
  for (char c : authority) {
    if (!IsTrustDomainChar(c)) {
      return Reject(text,
                    "trust domain characters must be lower-case letters, digits, '.', '-' "
                    "or '_'; found '" +
                        std::string(1, c) + "'");
    }
  }
  SIGNET_RETURN_IF_ERROR(CheckPath(text, path));

  SpiffeId id;
  id.trust_domain_ = std::string(authority);
  id.path_ = std::string(path);
  return id;
}

}  // namespace signet
