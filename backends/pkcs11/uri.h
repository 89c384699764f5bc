// RFC 7512 `pkcs11:` URIs: how signet names a key in a token.
//
// A key reference looks like
//   pkcs11:token=signet;object=jwt-1;id=%3c%a1%09%7e%55%0b%d2%18;type=private
// `token` (or `serial`) names the token, `object` is the key's CKA_LABEL, `id` its
// CKA_ID, `type` the object class. Values are percent-encoded (section 2.3).
//
// Parsing is strict: an attribute signet does not match on, a repeated attribute,
// a bad percent escape, an unknown `type` or any query part (`?pin-value=...`:
// PINs never travel in a URI) is an error naming what is wrong. We parse
// ourselves rather than with p11-kit's uri.h because p11-kit accepts unknown
// attributes silently and reports failures as bare codes (P11_KIT_URI_BAD_SYNTAX)
// that do not say which attribute was wrong.
//
// Thread safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "signer/bytes.h"
#include "signer/status.h"

namespace signet::pkcs11 {

struct Pkcs11Uri {
  std::string token;   // token label; empty when absent
  std::string serial;  // token serial number; empty when absent
  std::string object;  // CKA_LABEL; empty when absent
  Bytes id;            // CKA_ID; empty when absent
  std::string type;    // "private", "public", "cert", "secret-key", "data"; empty when absent
};

// Parses `text`; kInvalidArgument naming the offending attribute or character.
StatusOr<Pkcs11Uri> ParsePkcs11Uri(std::string_view text);

// The canonical text: token, serial, object, id, type in that order; every `id`
// byte and every reserved character percent-encoded.
std::string FormatPkcs11Uri(const Pkcs11Uri& uri);

}  // namespace signet::pkcs11
