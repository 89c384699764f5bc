// JWS compact serialisation for the tokens signet mints (RFC 7515, RFC 7519),
// and the parser that reads a minted token back before it is released.
//
// Internal to signer/: the Minter builds the header and claims, signs the
// signing input through the backend, then calls ReadBackJwt on the finished
// token to check that the bytes say what was authorised.
//
// Thread safety: free functions on values.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <string>
#include <string_view>

#include "signer/bytes.h"
#include "signer/status.h"

namespace signet {

// base64url(header) '.' base64url(claims), the bytes the signature covers.
std::string JwtSigningInput(const boost::json::object& header, const boost::json::object& claims);

// signing_input '.' base64url(signature).
std::string JwtCompact(std::string_view signing_input, ByteView signature);

struct DecodedJwt {
  boost::json::object header;
  boost::json::object claims;
  std::string signing_input;
  Bytes signature;
};

// Splits and decodes a compact JWS; kInternal when it is not well formed (the
// tokens read back here are our own, so a malformed one is a bug). The header and
// claims objects are allocated from `storage`, which must outlive them.
StatusOr<DecodedJwt> DecodeJwt(std::string_view token, boost::json::storage_ptr storage = {});

// A random token id: 16 bytes from the OpenSSL CSPRNG, base64url (22 characters).
StatusOr<std::string> RandomJti();

}  // namespace signet
