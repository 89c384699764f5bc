// RAII owners for OpenSSL objects, and the one way OpenSSL errors become a Status.
//
// Every OpenSSL handle signet holds is owned by one of these pointers; nothing
// calls an OpenSSL *_free function by hand.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>

#include "signer/algorithm.h"
#include "signer/bytes.h"
#include "signer/status.h"

namespace signet::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

inline void FreeBio(BIO* b) {
  BIO_free_all(b);
}
inline void FreeOpenSslString(char* s) {
  OPENSSL_free(s);
}

using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using BioPtr = Ptr<BIO, FreeBio>;
using BnPtr = Ptr<BIGNUM, BN_free>;
using EcdsaSigPtr = Ptr<ECDSA_SIG, ECDSA_SIG_free>;
using X509Ptr = Ptr<X509, X509_free>;
using X509ReqPtr = Ptr<X509_REQ, X509_REQ_free>;
using X509ExtensionPtr = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using X509StorePtr = Ptr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using OpenSslStringPtr = Ptr<char, FreeOpenSslString>;

// Builds a Status from the thread's OpenSSL error queue, naming the failing call,
// and clears the queue: "EVP_DigestSign: error:...".
Status Error(std::string_view call, Code code = Code::kInternal);

// Parses a DER SubjectPublicKeyInfo.
StatusOr<PkeyPtr> ParsePublicKey(ByteView spki_der);

// Serialises the public half of `key` as DER SubjectPublicKeyInfo.
StatusOr<Bytes> PublicKeyDer(EVP_PKEY* key);

// The EVP_MD for a hash, fetched once per process; nullptr for HashAlgorithm::kNone. OpenSSL 3
// looks a legacy EVP_sha256() up again by name on every use, which costs more than hashing a JWT.
const EVP_MD* DigestFor(HashAlgorithm hash);

}  // namespace signet::ossl
