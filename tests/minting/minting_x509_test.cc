// X.509-SVIDs and CA certificates, signed through a real backend and checked by
// the `openssl` command line.
#include <catch2/catch.hpp>

#include <algorithm>

#include "signer/ca.h"
#include "signer/x509_sign.h"
#include "tests/minting/minting_env.h"

namespace signet::testing {
namespace {

std::string CertText(const std::string& pem_path) {
  std::string text;
  RunCommand("openssl x509 -in " + pem_path + " -noout -text", &text);
  return text;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("an X.509-SVID from a CSR verifies with openssl -x509_strict for each CA algorithm",
          "[minting][x509]") {
  for (Algorithm alg : {Algorithm::kES256, Algorithm::kES384, Algorithm::kPS256, Algorithm::kRS256,
                        Algorithm::kEdDSA}) {
    std::vector<Algorithm> offered = MakeBackendFixture()->algorithms();
    if (std::find(offered.begin(), offered.end(), alg) == offered.end()) {
      WARN("backend does not offer " << AlgorithmName(alg) << "; not tested here");
      continue;
    }
    INFO("CA algorithm " << AlgorithmName(alg));
    MintingEnv env(Algorithm::kES256, Algorithm::kES256, alg);
    StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
        Caller{kIdp},
        X509SvidRequest{"spiffe://example.org/agent/refunds", env.MakeCsr("ec"), Seconds(600)});
    INFO(cert.status().ToString());
    REQUIRE(cert.ok());
    REQUIRE(cert->chain_der.size() == 1);  // the intermediate; never the root
    CHECK(cert->chain_der[0] == env.intermediate_der());
    std::string verdict = env.OpensslVerify(*cert, "svid");
    INFO(verdict);
    CHECK(Contains(verdict, ": OK"));
  }
}

TEST_CASE("an X.509-SVID carries exactly the SPIFFE profile's extensions", "[minting][x509]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  for (std::string key_type : {"ec", "rsa", "ed25519"}) {
    INFO("CSR key " << key_type);
    StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
        Caller{kIdp},
        X509SvidRequest{"spiffe://example.org/agent/refunds", env.MakeCsr(key_type), {}});
    INFO(cert.status().ToString());
    REQUIRE(cert.ok());
    std::string text = CertText(env.WritePem("leaf-" + key_type, cert->cert_der));
    INFO(text);
    CHECK(Contains(text, "X509v3 Basic Constraints: critical\n                CA:FALSE"));
    CHECK(Contains(text, "X509v3 Key Usage: critical\n                Digital Signature\n"));
    CHECK(Contains(text, "TLS Web Server Authentication, TLS Web Client Authentication"));
    CHECK(Contains(text,
                   "X509v3 Subject Alternative Name: \n"
                   "                URI:spiffe://example.org/agent/refunds\n"));
    CHECK(Contains(text, "X509v3 Subject Key Identifier"));
    CHECK(Contains(text, "X509v3 Authority Key Identifier"));
    CHECK(!Contains(text, "CN = ignored"));
    CHECK(!Contains(text, "Certificate Sign"));
    CHECK(cert->audit.serial_hex.size() == 32);  // 128 bits
    std::string serial;
    RunCommand("openssl x509 -noout -serial -in " + env.dir().path() + "/leaf-" + key_type + ".pem",
               &serial);
    std::string upper = cert->audit.serial_hex;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    CHECK(serial == "serial=" + upper + "\n");
    CHECK(cert->audit.expires_at - cert->audit.issued_at == Seconds(3600));  // granted maximum
    CHECK(Contains(env.OpensslVerify(*cert, "v-" + key_type), ": OK"));
  }
}

TEST_CASE("an X.509-SVID is backdated and capped by the issuing CA's expiry", "[minting][x509]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256, Seconds(1800));
  StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
      Caller{kIdp},
      X509SvidRequest{"spiffe://example.org/app/web", env.MakeCsr("ec"), Seconds(3600)});
  INFO(cert.status().ToString());
  REQUIRE(cert.ok());
  StatusOr<ossl::X509Ptr> leaf = ParseCertificate(cert->cert_der);
  StatusOr<ossl::X509Ptr> ca = ParseCertificate(env.intermediate_der());
  REQUIRE((leaf.ok() && ca.ok()));
  CHECK(*NotAfter(leaf->get()) == *NotAfter(ca->get()));
  CHECK(*NotBefore(leaf->get()) <= env.clock().Now() - Seconds(5));
}

TEST_CASE("a CSR asking for CA=true still yields a CA=false certificate", "[minting][x509]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  std::string csr =
      env.MakeCsr("ec",
                  "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign "
                  "-addext subjectAltName=URI:spiffe://example.org/admin");
  StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
      Caller{kIdp}, X509SvidRequest{"spiffe://example.org/agent/refunds", csr, {}});
  INFO(cert.status().ToString());
  REQUIRE(cert.ok());
  std::string text = CertText(env.WritePem("leaf", cert->cert_der));
  CHECK(Contains(text, "CA:FALSE"));
  CHECK(!Contains(text, "CA:TRUE"));
  CHECK(!Contains(text, "Certificate Sign"));
  CHECK(!Contains(text, "spiffe://example.org/admin"));
}

TEST_CASE("a DER CSR is accepted like a PEM one", "[minting][x509]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  std::string pem_path = env.dir().Write("in.pem", env.MakeCsr("ec"));
  std::string der;
  REQUIRE(RunCommand("openssl req -in " + pem_path + " -outform DER -out " + env.dir().path() +
                     "/in.der") == 0);
  RunCommand("cat " + env.dir().path() + "/in.der", &der);
  StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
      Caller{kIdp}, X509SvidRequest{"spiffe://example.org/app/web", der, {}});
  INFO(cert.status().ToString());
  REQUIRE(cert.ok());
}

TEST_CASE("CA certificates carry CA=true, keyCertSign, path length and the trust domain ID",
          "[minting][ca]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  std::string root = env.WritePem("root", env.root_der());
  std::string inter = env.WritePem("inter", env.intermediate_der());
  std::string root_text = CertText(root);
  std::string inter_text = CertText(inter);
  for (const std::string& text : {root_text, inter_text}) {
    CHECK(Contains(text, "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:"));
    CHECK(Contains(text, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"));
    CHECK(Contains(text, "URI:spiffe://example.org\n"));
    CHECK(Contains(text, "X509v3 Subject Key Identifier"));
    CHECK(Contains(text, "X509v3 Authority Key Identifier"));
  }
  CHECK(Contains(root_text, "pathlen:1"));
  CHECK(Contains(inter_text, "pathlen:0"));
  std::string out;
  CHECK(RunCommand("openssl verify -x509_strict -CAfile " + root + " " + inter, &out) == 0);
  INFO(out);
  CHECK(RunCommand("openssl verify -x509_strict -CAfile " + root + " " + root, &out) == 0);
}

TEST_CASE("a raw signature over a digest verifies with openssl", "[minting][raw]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  std::string message = "release 1.2.3";
  std::string msg_path = env.dir().Write("msg", message);
  std::string digest_bin;
  REQUIRE(RunCommand("openssl dgst -sha256 -binary " + msg_path + " > " + env.dir().path() +
                     "/digest") == 0);
  RunCommand("cat " + env.dir().path() + "/digest", &digest_bin);
  REQUIRE(digest_bin.size() == 32);

  StatusOr<RawSignature> sig = env.minter().SignRawAndWait(
      Caller{kIdp}, RawSignRequest{"release", Bytes(digest_bin.begin(), digest_bin.end()),
                                   SignatureFormat::kDer});
  REQUIRE(sig.ok());
  CHECK(sig->audit.kid == "release");
  CHECK(OpensslVerifies(env.raw_key().public_key().spki_der, Algorithm::kES256, message,
                        sig->signature));
}

TEST_CASE("a minted certificate splits into the TBS and signature that verify it",
          "[minting][x509]") {
  MintingEnv env(Algorithm::kES256, Algorithm::kES256, Algorithm::kES256);
  StatusOr<MintedCertificate> cert = env.minter().MintX509SvidAndWait(
      Caller{kIdp},
      X509SvidRequest{"spiffe://example.org/agent/refunds", env.MakeCsr("ec"), Seconds(600)});
  REQUIRE(cert.ok());

  StatusOr<CertificateParts> parts = SplitCertificate(cert->cert_der);
  REQUIRE(parts.ok());
  StatusOr<ossl::X509Ptr> parsed = ParseCertificate(cert->cert_der);
  REQUIRE(parsed.ok());
  StatusOr<Bytes> tbs = TbsBytes(parsed->get());
  REQUIRE(tbs.ok());
  CHECK(Bytes(parts->tbs.begin(), parts->tbs.end()) == *tbs);
  const ASN1_BIT_STRING* signature = nullptr;
  X509_get0_signature(&signature, nullptr, parsed->get());
  CHECK(Bytes(parts->signature.begin(), parts->signature.end()) ==
        Bytes(ASN1_STRING_get0_data(signature),
              ASN1_STRING_get0_data(signature) + ASN1_STRING_length(signature)));

  Bytes trailing = cert->cert_der;
  trailing.push_back(0);
  CHECK(SplitCertificate(trailing).status().code() == Code::kInternal);
  Bytes truncated(cert->cert_der.begin(), cert->cert_der.end() - 1);
  CHECK(SplitCertificate(truncated).status().code() == Code::kInternal);
}

}  // namespace signet::testing
