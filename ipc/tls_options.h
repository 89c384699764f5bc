// TlsFiles: where a TLS endpoint finds its certificate, key and trust bundle.
//
// Paths to PEM files. The server side reloads them when they change (see
// Server::Reload); the files are read by OpenSSL and never copied into logs.
#pragma once

#include <string>

namespace signet::ipc {

struct TlsFiles {
  std::string cert_file;  // our certificate chain, leaf first
  std::string key_file;   // our private key; not yet: keys held in a backend (file keys only)
  std::string ca_file;    // the CA bundle the peer's chain must lead to
};

}  // namespace signet::ipc
