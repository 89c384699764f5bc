// Byte strings and their text encodings (hex, base64url without padding).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signer/status.h"

namespace signet {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

inline std::string_view AsText(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The value of one hex digit (either case), or -1 for any other character.
int HexDigitValue(char c);

// Lower-case hex.
std::string HexEncode(ByteView bytes);
StatusOr<Bytes> HexDecode(std::string_view hex);

// RFC 4648 section 5, without '=' padding, as JOSE uses it.
std::string Base64UrlEncode(ByteView bytes);
StatusOr<Bytes> Base64UrlDecode(std::string_view text);

// RFC 4648 section 4 with padding, as PEM and x5c use it.
std::string Base64Encode(ByteView bytes);

// One PEM block (RFC 7468) of DER bytes, e.g. type "CERTIFICATE", ending in a newline.
std::string PemEncode(std::string_view type, ByteView der);

}  // namespace signet
