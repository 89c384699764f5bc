// A throwaway PKI for the IPC tests, made with the `openssl` command line in a
// temporary directory: a CA, server certificates, client certificates with SPIFFE
// IDs, one client from another CA and one without a URI SAN.
#pragma once

#include <string>

#include "ipc/tls_options.h"
#include "tests/support/openssl_cli.h"

namespace signet::testing {

class TestPki {
 public:
  TestPki();

  const std::string& dir() const { return dir_.path(); }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Server files: cert "server" (CN signet-server-1) by default.
  ipc::TlsFiles ServerFiles(const std::string& name = "server") const;

  // Client files for "client" (spiffe://example.org/idp), "client2"
  // (spiffe://example.org/agent-idp), "foreign" (another CA), "nospiffe" (no URI SAN),
  // "twospiffe" (two URI SANs).
  ipc::TlsFiles ClientFiles(const std::string& name = "client") const;

 private:
  void Run(const std::string& command) const;
  TempDir dir_;
};

// The process-wide PKI, made on first use.
const TestPki& SharedPki();

}  // namespace signet::testing
