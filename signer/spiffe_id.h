// SPIFFE IDs: parsing and validation exactly as the SPIFFE ID specification
// (SPIFFE-ID.md, section 2) defines them.
//
// A SPIFFE ID is `spiffe://<trust domain><path>`. The trust domain is lower-case
// letters, digits, '.', '-' and '_'; the path is zero or more '/'-prefixed
// segments of letters, digits, '.', '-' and '_', none empty, '.' or '..'; no
// userinfo, port, query, fragment or percent-encoding; at most 2048 bytes.
// Every rejection names the rule that failed and the offending value.
//
// Thread safety: values.
#pragma once

#include <string>
#include <string_view>

#include "signer/status.h"

namespace signet {

inline constexpr size_t kMaxSpiffeIdBytes = 2048;

class SpiffeId {
 public:
  // Parses and validates; kInvalidArgument naming the rule on failure.
  static StatusOr<SpiffeId> Parse(std::string_view text);

  // A trust domain name alone, e.g. "example.org"; same character rules.
  static Status ValidateTrustDomain(std::string_view trust_domain);

  const std::string& trust_domain() const { return trust_domain_; }
  const std::string& path() const { return path_; }  // "" or "/a/b"
  std::string ToString() const { return "spiffe://" + trust_domain_ + path_; }

  // The trust domain's own ID, spiffe://<td>, as CA certificates carry it.
  static std::string TrustDomainId(std::string_view trust_domain) {
    return "spiffe://" + std::string(trust_domain);
  }

  friend bool operator==(const SpiffeId&, const SpiffeId&) = default;

 private:
  std::string trust_domain_;
  std::string path_;
};

}  // namespace signet
