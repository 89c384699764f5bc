// ClientConfig: signetctl's TOML client configuration (docs/configuration.md).
//
//   endpoints = ["127.0.0.1:7443", "unix:signetd.sock"]   # tried in order
//   certificate = "pki/caller.pem"                        # our client certificate
//   private_key = "pki/caller.key"
//   ca = "pki/ca.pem"                                     # what signetd's certificate chains to
//   server_name = "localhost"                             # SNI and the name checked
//   timeout = "10s"                                       # connect timeout
//
// Relative paths (also after "unix:") are resolved against the file's directory.
// Thread safety: a value.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "signer/status.h"

namespace signet {

struct ClientConfig {
  std::string path;
  std::vector<std::string> endpoints;
  std::string certificate;
  std::string private_key;
  std::string ca;
  std::string server_name;
  std::chrono::seconds timeout{10};
};

// Reads and validates a client config; errors name the file and the key.
StatusOr<ClientConfig> LoadClientConfig(const std::string& path);

}  // namespace signet
