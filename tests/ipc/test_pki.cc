#include "tests/ipc/test_pki.h"

#include <stdexcept>
#include <vector>

namespace signet::testing {

void TestPki::Run(const std::string& command) const {
  std::string output;
  if (RunCommand("cd " + dir_.path() + " && " + command, &output) != 0) {
    throw std::runtime_error("test PKI: '" + command + "' failed: " + output);
  }
}

namespace {

// `openssl req` with a minimal configuration, so that no extension but those given
// lands in a certificate (the system default adds CA:TRUE to every -x509 output).
std::string Req(const std::string& args) {
  return "openssl req -config min.cnf -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 " + args;
}

std::string AddExt(const std::vector<std::string>& extensions) {
  std::string out;
  for (const std::string& ext : extensions) {
    out += " -addext '" + ext + "'";
  }
  return out;
}

}  // namespace

TestPki::TestPki() {
  dir_.Write("min.cnf", "[req]\ndistinguished_name=dn\n[dn]\n");
  std::vector<std::string> steps;
  for (const char* ca : {"ca", "other-ca"}) {
    steps.push_back(Req(std::string("-x509 -days 2 -keyout ") + ca + ".key -out " + ca +
                        ".pem -subj /CN=" + ca) +
                    AddExt({"basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign"}));
  }
  auto issue = [&](const std::string& name, const std::string& cn,
                   const std::vector<std::string>& extensions, const std::string& ca = "ca") {
    steps.push_back(Req("-x509 -CA " + ca + ".pem -CAkey " + ca + ".key -days 1 -keyout " + name +
                        ".key -out " + name + ".pem -subj /CN=" + cn) +
                    AddExt(extensions));
  };
  const std::string client_eku = "extendedKeyUsage=clientAuth";
  issue("server", "signet-server-1",
        {"subjectAltName=DNS:localhost,IP:127.0.0.1", "extendedKeyUsage=serverAuth"});
  issue("server2", "signet-server-2",
        {"subjectAltName=DNS:localhost,IP:127.0.0.1", "extendedKeyUsage=serverAuth"});
  issue("client", "idp", {"subjectAltName=URI:spiffe://example.org/idp", client_eku});
  issue("client2", "agent-idp", {"subjectAltName=URI:spiffe://example.org/agent-idp", client_eku});
  issue("foreign", "foreign", {"subjectAltName=URI:spiffe://example.org/idp", client_eku},
        "other-ca");
  issue("nospiffe", "nospiffe", {"subjectAltName=DNS:idp.example.org", client_eku});
  issue("twospiffe", "two",
        {"subjectAltName=URI:spiffe://example.org/a,URI:spiffe://example.org/b", client_eku});

  std::string script;
  for (const std::string& step : steps) {
    script += (script.empty() ? "" : " && ") + step;
  }
  Run(script);
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
