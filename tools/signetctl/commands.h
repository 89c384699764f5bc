// signetctl's requests: each command's arguments become one IPC request, and the response
// becomes the text signetctl prints.
//
// Building a request checks everything that can be checked locally (durations, hex digests,
// the CSR file) so a typo is reported before any connection is made. Formatting a response
// turns a server error, for the whole request or for its one item, into a Status whose message
// says what the server refused.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "ipc/request_handler.h"
#include "signer/status.h"

namespace signet::ctl {

namespace pb = ::signet::ipc::pb;

struct JwtSvidArgs {
  std::string subject;
  std::vector<std::string> audiences;
  std::string ttl = "5m";
};

struct AccessTokenArgs {
  std::string subject;
  std::vector<std::string> audiences;
  std::string client_id;
  std::vector<std::string> scopes;
  std::vector<std::string> actors;  // current actor first
  std::string ttl = "60s";
};

struct X509SvidArgs {
  std::string csr_file;
  std::string subject;
  std::string ttl = "1h";
};

struct SignArgs {
  std::string key_id;
  std::string digest_hex;
  std::string encoding = "der";  // der | raw
};

StatusOr<pb::Request> BuildJwtSvidRequest(const JwtSvidArgs& args);
StatusOr<pb::Request> BuildAccessTokenRequest(const AccessTokenArgs& args);
StatusOr<pb::Request> BuildX509SvidRequest(const X509SvidArgs& args);
StatusOr<pb::Request> BuildSignRequest(const SignArgs& args);
pb::Request BuildJwksRequest();
pb::Request BuildBundleRequest();

// The text to print for a response: a token, PEM certificates, a hex signature or a JSON
// document, ending in a newline. An error in the response becomes the returned Status.
StatusOr<std::string> FormatResponse(const pb::Response& response);

}  // namespace signet::ctl
