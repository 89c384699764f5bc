#include "tests/ipc/test_pki.h"

#include <stdexcept>

namespace signet::testing {

void TestPki::Run(const std::string& command) const {
  std::string output;
  if (RunCommand("cd " + dir_.path() + " && " + command, &output) != 0) {
    throw std::runtime_error("test PKI: '" + command + "' failed: " + output);
  }
}

TestPki::TestPki() {
  const std::string ca_ext =
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign";
  for (const char* ca : {"ca", "other-ca"}) {
    Run(std::string("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ") +
        "-keyout " + ca + ".key -out " + ca + ".pem -days 2 -subj '/CN=" + ca + "' " + ca_ext);
  }

  const std::string server_ext =
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth";
  Issue("server", "signet-server-1", server_ext);
  Issue("server2", "signet-server-2", server_ext);
  Issue("client", "idp",
        "subjectAltName=URI:spiffe://example.org/idp\n"
        "extendedKeyUsage=clientAuth");
  Issue("client2", "agent-idp",
        "subjectAltName=URI:spiffe://example.org/agent-idp\n"
        "extendedKeyUsage=clientAuth");
  Issue("foreign", "foreign",
        "subjectAltName=URI:spiffe://example.org/idp\n"
        "extendedKeyUsage=clientAuth",
        "other-ca");
  Issue("nospiffe", "nospiffe", "subjectAltName=DNS:idp.example.org\nextendedKeyUsage=clientAuth");
  Issue("twospiffe", "two",
        "subjectAltName=URI:spiffe://example.org/a,URI:spiffe://example.org/b\n"
        "extendedKeyUsage=clientAuth");
}

void TestPki::Issue(const std::string& name, const std::string& cn, const std::string& extensions,
                    const std::string& ca) const {
  dir_.Write(name + ".ext", extensions + "\n");
  Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
      ".key -out " + name + ".csr -subj '/CN=" + cn + "'");
  Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
      ".key -CAcreateserial -days 1 -out " + name + ".pem -extfile " + name + ".ext");
}

ipc::TlsFiles TestPki::ServerFiles(const std::string& name) const {
  return {Path(name + ".pem"), Path(name + ".key"), Path("ca.pem")};
}

ipc::TlsFiles TestPki::ClientFiles(const std::string& name) const {
  return {Path(name + ".pem"), Path(name + ".key"), Path("ca.pem")};
}

const TestPki& SharedPki() {
  static const TestPki pki;
  return pki;
}

}  // namespace signet::testing
