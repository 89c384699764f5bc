// The CA ceremony end to end on a SoftHSM2 token: root and intermediates in the
// token, X.509-SVIDs chaining to the active intermediate, checked by `openssl verify`.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <stdexcept>

#include "backends/pkcs11/pkcs11_backend.h"
#include "signer/x509_sign.h"
#include "tests/signer/lifecycle_support.h"
#include "tests/support/softhsm_token.h"

namespace signet::testing {
namespace {

constexpr const char* kWorkload = "spiffe://example.org/workload/payments";

std::unique_ptr<Pkcs11Backend> OpenToken(const SoftHsmToken& token) {
  Pkcs11Backend::Options options;
  options.module_path = kSoftHsmModule;
  options.token_label = token.label();
  options.pin.file = token.pin_file();
  auto backend = Pkcs11Backend::Create(options);
  if (!backend.ok()) {
    throw std::runtime_error("cannot open the SoftHSM token: " + backend.status().ToString());
  }
  return std::move(*backend);
}

KeyManager::Options CaOptions() {
  KeyManager::Options options;
  options.rotation[Purpose::kX509Ca] =
      RotationRule{Seconds(30 * 24 * 3600), Algorithm::kES256, "pkcs11"};
  options.intermediate_spec.common_name = "signet intermediate";
  options.intermediate_spec.trust_domain = "example.org";
  options.intermediate_spec.path_length = 0;
  return options;
}

CaCertificateSpec RootSpec() {
  CaCertificateSpec spec;
  spec.common_name = "signet root";
  spec.organization = "example.org";
  spec.trust_domain = "example.org";
  spec.ttl = Seconds(365 * 24 * 3600);
  spec.path_length = 1;
  return spec;
}

// A CSR for a fresh P-256 key, made by the openssl command line.
std::string MakeCsr(const TempDir& dir) {
  std::string out;
  int rc = RunCommand(
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout " +
          dir.path() + "/leaf.key -subj /CN=ignored -out " + dir.path() + "/leaf.csr",
      &out);
  if (rc != 0) {
    throw std::runtime_error("openssl req failed: " + out);
  }
  std::string csr;
  RunCommand("cat " + dir.path() + "/leaf.csr", &csr);
  return csr;
}

// `openssl verify -x509_strict` of leaf against root with the intermediate untrusted, at `at`.
int OpensslVerify(const TempDir& dir, const Bytes& root, const Bytes& intermediate,
                  const Bytes& leaf, TimePoint at, std::string* output) {
  std::string root_pem = dir.Write("root.pem", CertificatePem(root));
  std::string int_pem = dir.Write("int.pem", CertificatePem(intermediate));
  std::string leaf_pem = dir.Write("leaf.pem", CertificatePem(leaf));
  return RunCommand("openssl verify -x509_strict -attime " + std::to_string(UnixSeconds(at)) +
                        " -CAfile " + root_pem + " -untrusted " + int_pem + " " + leaf_pem,
                    output);
}

const KeyRecord* FindRole(const Catalogue& c, CaRole role, KeyState state) {
  for (const KeyRecord& k : c.keys) {
    if (k.ca_role == role && k.state == state) {
      return &k;
    }
  }
  return nullptr;
}

TEST_CASE("CA ceremony on SoftHSM chains root, intermediate and X.509-SVID for openssl",
          "[lifecycle][softhsm]") {
  SoftHsmToken token("ceremony");
  std::unique_ptr<Pkcs11Backend> hsm = OpenToken(token);
  LifecycleRig rig(CaOptions(), {hsm.get()}, Seconds(3600));
  REQUIRE_OK(rig.keys->Open());
  TempDir work;

  // A software root is refused: x509-ca is a hardware purpose.
  auto soft = rig.keys->InitRoot(Algorithm::kES256, "software", RootSpec(), "alice");
  REQUIRE(!soft.ok());
  CHECK(soft.status().code() == Code::kPermissionDenied);

  auto root = rig.keys->InitRoot(Algorithm::kES256, "pkcs11", RootSpec(), "alice");
  REQUIRE_OK(root);
  REQUIRE(root->back().to == KeyState::kActive);
  CHECK(root->back().by == "alice");
  std::string root_kid = root->back().kid;

  CaCertificateSpec int_spec = CaOptions().intermediate_spec;
  int_spec.ttl = Seconds(30 * 24 * 3600);
  auto intermediate = rig.keys->IssueIntermediate(Algorithm::kES256, "pkcs11", int_spec, "alice");
  REQUIRE_OK(intermediate);
  CHECK(intermediate->to == KeyState::kPrepared);
  // A prepared intermediate issues nothing yet.
  std::string csr = MakeCsr(work);
  CHECK(rig.minter->MintX509SvidAndWait(Caller{kCaller}, X509SvidRequest{kWorkload, csr, {}})
            .status()
            .code() == Code::kFailedPrecondition);
  REQUIRE_OK(rig.keys->Activate(intermediate->kid, "alice"));

  // The keys are in the token: pkcs11-tool lists both labels.
  std::string objects;
  RunCommand(
      token.Pkcs11Tool() + " --login --pin \"$(cat " + token.pin_file() + ")\" --list-objects",
      &objects);
  CHECK(objects.find(root_kid) != std::string::npos);
  CHECK(objects.find(intermediate->kid) != std::string::npos);

  auto svid = rig.minter->MintX509SvidAndWait(Caller{kCaller},
                                              X509SvidRequest{kWorkload, csr, Seconds(3600)});
  REQUIRE_OK(svid);
  REQUIRE(svid->chain_der.size() == 1);
  Catalogue c = rig.keys->Snapshot();
  const KeyRecord* root_record = c.Find(root_kid);
  const KeyRecord* int_record = c.Find(intermediate->kid);
  REQUIRE(root_record != nullptr);
  REQUIRE(int_record != nullptr);
  CHECK(svid->chain_der[0] == int_record->cert_der);

  std::string output;
  CHECK(OpensslVerify(work, root_record->cert_der, svid->chain_der[0], svid->cert_der,
                      rig.clock->Now(), &output) == 0);
  INFO(output);
  CHECK(output.find(": OK") != std::string::npos);

  // The catalogue knows what each CA key signed until when.
  CHECK(root_record->latest_signed_expiry == int_record->not_after);
  CHECK(int_record->latest_signed_expiry == svid->audit.expires_at);

  // The bundle publishes the root, not the intermediate.
  auto bundle = rig.minter->SpiffeBundleJson();
  REQUIRE_OK(bundle);
  boost::json::value parsed = boost::json::parse(*bundle);
  size_t x509_authorities = 0;
  for (const auto& k : parsed.at("keys").as_array()) {
    if (k.at("use") == "x509-svid") {
      ++x509_authorities;
      CHECK(k.at("x5c").at(0).as_string() == Base64Encode(root_record->cert_der));
    }
  }
  CHECK(x509_authorities == 1);
}

TEST_CASE("intermediates rotate with overlap and new SVIDs chain to the active one",
          "[lifecycle][softhsm]") {
  SoftHsmToken token("rotation");
  std::unique_ptr<Pkcs11Backend> hsm = OpenToken(token);
  LifecycleRig rig(CaOptions(), {hsm.get()}, Seconds(3600));
  REQUIRE_OK(rig.keys->Open());
  REQUIRE_OK(rig.keys->InitRoot(Algorithm::kES256, "pkcs11", RootSpec(), "alice"));
  TempDir work;
  std::string csr = MakeCsr(work);

  // Tick bootstraps an intermediate, then rotates it on the L/2, L/6 schedule.
  auto first = rig.keys->Tick();
  REQUIRE_OK(first);
  REQUIRE(first->size() == 2);
  std::string int1 = first->back().kid;
  auto svid1 = rig.minter->MintX509SvidAndWait(Caller{kCaller},
                                               X509SvidRequest{kWorkload, csr, Seconds(3600)});
  REQUIRE_OK(svid1);

  rig.clock->Advance(Seconds(25 * 24 * 3600));  // 5 days left of 30: past L/6
  auto rotated = rig.keys->Tick();
  REQUIRE_OK(rotated);
  Catalogue c = rig.keys->Snapshot();
  const KeyRecord* int2 = FindRole(c, CaRole::kIntermediate, KeyState::kActive);
  REQUIRE(int2 != nullptr);
  CHECK(int2->kid != int1);
  CHECK(c.Find(int1)->state == KeyState::kRetired);

  auto svid2 = rig.minter->MintX509SvidAndWait(Caller{kCaller},
                                               X509SvidRequest{kWorkload, csr, Seconds(3600)});
  REQUIRE_OK(svid2);
  CHECK(svid2->chain_der[0] == int2->cert_der);
  const KeyRecord* root = FindRole(c, CaRole::kRoot, KeyState::kActive);
  REQUIRE(root != nullptr);
  std::string output;
  CHECK(OpensslVerify(work, root->cert_der, svid2->chain_der[0], svid2->cert_der, rig.clock->Now(),
                      &output) == 0);
  // The old SVID, at a time it was valid, still chains to the root through its intermediate.
  CHECK(OpensslVerify(work, root->cert_der, svid1->chain_der[0], svid1->cert_der,
                      svid1->audit.issued_at, &output) == 0);
  // An SVID presented with the wrong intermediate does not verify: the check has teeth.
  CHECK(OpensslVerify(work, root->cert_der, svid2->chain_der[0], svid1->cert_der,
                      svid1->audit.issued_at, &output) != 0);
}

}  // namespace
}  // namespace signet::testing
