// signet-demo: signs one message with an ES256 key kept in a PKCS#11 token, and has
// the openssl command line verify it. An interim stand-in for starting the server
// (tools/run.sh runs it); it will go away when signetd exists.
//
// Usage: signet-demo <module.so> <token label> <PIN file> <state directory>
// The key's pkcs11: URI is kept in <state directory>/demo-key.uri: the first run
// generates the key, later runs load it again by that URI.
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "backends/pkcs11/pkcs11_backend.h"
#include "signer/ossl.h"

namespace {

constexpr const char* kKeyLabel = "demo-es256";
constexpr const char* kMessage = "signet demo: a credential would be signed here\n";

int Fail(const std::string& what, const signet::Status& status) {
  std::cerr << "signet-demo: " << what << ": " << status << "\n";
  return 1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  return static_cast<bool>(out);
}

signet::StatusOr<std::string> PublicKeyPem(const signet::PublicKey& key) {
  SIGNET_ASSIGN_OR_RETURN(signet::ossl::PkeyPtr pkey, signet::ossl::ParsePublicKey(key.spki_der));
  signet::ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    return signet::ossl::Error("PEM_write_bio_PUBKEY");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// The key from an earlier run, or a new one when there is none.
signet::StatusOr<std::shared_ptr<signet::SigningKey>> DemoKey(signet::Backend& backend,
                                                              const std::string& uri_file) {
  std::string uri = ReadFile(uri_file);
  while (!uri.empty() && (uri.back() == '\n' || uri.back() == ' ')) {
    uri.pop_back();
  }
  if (!uri.empty()) {
    auto key = backend.LoadKey(uri);
    if (key.ok() || key.status().code() != signet::Code::kNotFound) {
      std::cout << "reused key      " << uri << "\n";
      return key;
    }
  }

  signet::KeySpec spec;
  spec.algorithm = signet::Algorithm::kES256;
  spec.label = kKeyLabel;
  SIGNET_ASSIGN_OR_RETURN(std::shared_ptr<signet::SigningKey> key, backend.GenerateKey(spec));
  if (!WriteFile(uri_file, key->ref() + "\n")) {
    return signet::Status(signet::Code::kFailedPrecondition, "cannot write " + uri_file);
  }
  std::cout << "generated key   " << key->ref() << "\n";
  return key;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: signet-demo <module.so> <token label> <PIN file> <state directory>\n";
    return 2;
  }
  std::string state = argv[4];

  signet::Pkcs11Backend::Options options;
  options.module_path = argv[1];
  options.token_label = argv[2];
  options.pin.file = argv[3];
  options.workers = 1;
  auto backend = signet::Pkcs11Backend::Create(options);
  if (!backend.ok()) {
    return Fail("opening the token", backend.status());
  }
  std::cout << "token           " << options.token_label << " via " << options.module_path << "\n";

  auto key = DemoKey(**backend, state + "/demo-key.uri");
  if (!key.ok()) {
    return Fail("getting the demo key", key.status());
  }
  auto pem = PublicKeyPem((*key)->public_key());
  if (!pem.ok()) {
    return Fail("exporting the public key", pem.status());
  }
  std::cout << "public key\n" << *pem;

  std::string message = kMessage;
  signet::SignRequest request{signet::Bytes(message.begin(), message.end()), false,
                              signet::SignatureFormat::kDer};
  auto sig = (*key)->SignAndWait(request);
  if (!sig.ok()) {
    return Fail("signing", sig.status());
  }
  std::cout << "signature       " << sig->size() << " bytes, DER, ES256 (verified in-process)\n";

  std::string pub_path = state + "/demo-pub.pem";
  std::string msg_path = state + "/demo-message.txt";
  std::string sig_path = state + "/demo-signature.der";
  if (!WriteFile(pub_path, *pem) || !WriteFile(msg_path, message) ||
      !WriteFile(sig_path, std::string(sig->begin(), sig->end()))) {
    std::cerr << "signet-demo: cannot write the files to verify in " << state << "\n";
    return 1;
  }
  std::string command = "openssl dgst -sha256 -verify '" + pub_path + "' -signature '" + sig_path +
                        "' '" + msg_path + "'";
  std::cout << "openssl says    " << std::flush;
  int rc = std::system(command.c_str());
  if (rc != 0) {
    std::cerr << "signet-demo: openssl did not verify the signature (" << command << ")\n";
    return 1;
  }
  return 0;
}
