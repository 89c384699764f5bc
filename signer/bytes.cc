#include "signer/bytes.h"

#include <algorithm>
#include <array>

namespace signet {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Writes into a string sized once: the tokens and signatures encoded per request make
// this a hot path, where a push_back per character costs more than the arithmetic.
std::string Base64With(ByteView bytes, const char* alphabet, bool pad) {
  size_t full = bytes.size() / 3;
  size_t rest = bytes.size() - full * 3;
  size_t tail = rest == 0 ? 0 : (pad ? 4 : rest + 1);
  std::string out(full * 4 + tail, '=');
  char* o = out.data();
  const uint8_t* in = bytes.data();
  for (size_t g = 0; g < full; ++g, in += 3, o += 4) {
    uint32_t n = (uint32_t{in[0]} << 16) | (uint32_t{in[1]} << 8) | in[2];
    o[0] = alphabet[(n >> 18) & 63];
    o[1] = alphabet[(n >> 12) & 63];
    o[2] = alphabet[(n >> 6) & 63];
    o[3] = alphabet[n & 63];
  }

  if (rest > 0) {
    uint32_t n = uint32_t{in[0]} << 16;
    if (rest == 2) {
      n |= uint32_t{in[1]} << 8;
    }
    o[0] = alphabet[(n >> 18) & 63];
    o[1] = alphabet[(n >> 12) & 63];
    if (rest == 2) {
      o[2] = alphabet[(n >> 6) & 63];
    }
  }
  return out;
}

// The value of each base64url character, -1 for every other byte.
constexpr std::array<int8_t, 256> Base64UrlValues() {
  std::array<int8_t, 256> value{};
  for (int8_t& v : value) {
    v = -1;
  }
  for (int i = 0; i < 64; ++i) {
    value[static_cast<uint8_t>(kBase64Url[i])] = static_cast<int8_t>(i);
  }
  return value;
}

constexpr std::array<int8_t, 256> kBase64UrlValues = Base64UrlValues();

}  // namespace

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string HexEncode(ByteView bytes) {
  std::string out(bytes.size() * 2, '\0');
  char* next = out.data();
  for (uint8_t b : bytes) {
    *next++ = kHexDigits[b >> 4];
    *next++ = kHexDigits[b & 15];
  }
  return out;
}

StatusOr<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Status(Code::kInvalidArgument,
                  "hex string has an odd number of digits (" + std::to_string(hex.size()) + ")");
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexDigitValue(hex[2 * i]);
    int lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status(Code::kInvalidArgument,
                    "hex string has a non-hex character at offset " + std::to_string(2 * i));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64UrlEncode(ByteView bytes) {
  return Base64With(bytes, kBase64Url, false);
}

std::string Base64Encode(ByteView bytes) {
  return Base64With(bytes, kBase64, true);
}

std::string PemEncode(std::string_view type, ByteView der) {
  std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN " + std::string(type) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out += b64.substr(i, 64) + "\n";
  }
  return out + "-----END " + std::string(type) + "-----\n";
}

StatusOr<Bytes> Base64UrlDecode(std::string_view text) {
  size_t full = text.size() / 4;
  size_t rest = text.size() % 4;
  if (rest == 1) {
    return Status(Code::kInvalidArgument,
                  "base64url text has an impossible length " + std::to_string(text.size()));
  }

  // Four characters at a time into an output sized once; a group with an invalid
  // character is scanned again only to name its offset.
  Bytes out(full * 3 + (rest == 0 ? 0 : rest - 1));
  uint8_t* o = out.data();
  auto value = [&](size_t at) -> int32_t {
    return at < text.size() ? kBase64UrlValues[static_cast<uint8_t>(text[at])] : 0;
  };
  for (size_t i = 0; i < text.size(); i += 4) {
    int32_t a = value(i), b = value(i + 1), c = value(i + 2), d = value(i + 3);
    if ((a | b | c | d) < 0) {
      size_t at = i;
      while (kBase64UrlValues[static_cast<uint8_t>(text[at])] >= 0) {
        ++at;
      }
      return Status(Code::kInvalidArgument,
                    "base64url text has an invalid character at offset " + std::to_string(at));
    }
    int32_t group = (a << 18) | (b << 12) | (c << 6) | d;
    size_t bytes = std::min<size_t>(3, text.size() - i - 1);
    o[0] = static_cast<uint8_t>(group >> 16);
    if (bytes > 1) {
      o[1] = static_cast<uint8_t>(group >> 8);
    }
    if (bytes > 2) {
      o[2] = static_cast<uint8_t>(group);
    }
    o += bytes;
  }
  return out;
}

}  // namespace signet
