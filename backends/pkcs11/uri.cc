#include "backends/pkcs11/uri.h"

#include <array>
#include <cctype>

namespace signet::pkcs11 {

namespace {

constexpr std::string_view kScheme = "pkcs11:";

// RFC 7512 pk11-pchar without '%': unreserved characters plus the few sub-delims
// and ':' '[' ']' '@' '&' '+' allowed unescaped in a path attribute value.
bool IsPathChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
    return true;
  }
  return std::string_view("-._~:[]@!$'()*+,=&").find(c) != std::string_view::npos;
}

int HexValue(char c) {
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

Status UriError(std::string_view uri, const std::string& what) {
  return Status(Code::kInvalidArgument,
                "malformed pkcs11: URI '" + std::string(uri) + "': " + what);
}

StatusOr<std::string> Decode(std::string_view uri, std::string_view name, std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '%') {
      bool complete = i + 2 < value.size();
      int hi = complete ? HexValue(value[i + 1]) : -1;
      int lo = complete ? HexValue(value[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return UriError(uri, "attribute '" + std::string(name) + "' has a bad percent escape at '" +
                                 std::string(value.substr(i, 3)) + "'");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (IsPathChar(c)) {
      out.push_back(c);
    } else {
      return UriError(uri, "attribute '" + std::string(name) + "' has the character '" +
                               std::string(1, c) + "', which must be percent-encoded");
    }
  }
  return out;
}

void Encode(std::string_view value, bool every_byte, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : value) {
    if (!every_byte && IsPathChar(c) && c != '=' && c != '&') {
      out->push_back(c);
      continue;
    }
    auto byte = static_cast<unsigned char>(c);
    out->push_back('%');
    out->push_back(kHex[byte >> 4]);
    out->push_back(kHex[byte & 0xf]);
  }
}

}  // namespace

StatusOr<Pkcs11Uri> ParsePkcs11Uri(std::string_view text) {
  if (!text.starts_with(kScheme)) {
    return UriError(text, "it must start with 'pkcs11:'");
  }
  std::string_view path = text.substr(kScheme.size());
  if (size_t query = path.find('?'); query != std::string_view::npos) {
    return UriError(text, "query attributes ('" + std::string(path.substr(query)) +
                              "') are not accepted; a PIN never travels in a key reference");
  }
  if (path.empty()) {
    return UriError(text, "it names no attribute");
  }

  Pkcs11Uri uri;
  std::array<bool, 5> seen{};
  static constexpr std::array<std::string_view, 5> kNames = {"token", "serial", "object", "id",
                                                             "type"};
  while (!path.empty()) {
    size_t end = path.find(';');
    std::string_view attr = path.substr(0, end);
    path = end == std::string_view::npos ? std::string_view() : path.substr(end + 1);
    if (end != std::string_view::npos && path.empty()) {
      return UriError(text, "it ends with ';'");
    }

    size_t eq = attr.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return UriError(text, "'" + std::string(attr) + "' is not of the form name=value");
    }
    std::string_view name = attr.substr(0, eq);
    size_t index = 0;
    while (index < kNames.size() && kNames[index] != name) {
      ++index;
    }
    if (index == kNames.size()) {
      return UriError(text, "unknown or unsupported attribute '" + std::string(name) +
                                "' (signet matches on token, serial, object, id, type)");
    }
    if (seen[index]) {
      return UriError(text, "attribute '" + std::string(name) + "' appears twice");
    }
    seen[index] = true;

    SIGNET_ASSIGN_OR_RETURN(std::string value, Decode(text, name, attr.substr(eq + 1)));
    if (value.empty()) {
      return UriError(text, "attribute '" + std::string(name) + "' is empty");
    }
    switch (index) {
      case 0:
        uri.token = std::move(value);
        break;
      case 1:
        uri.serial = std::move(value);
        break;
      case 2:
        uri.object = std::move(value);
        break;
      case 3:
        uri.id.assign(value.begin(), value.end());
        break;
      case 4:
        if (value != "private" && value != "public" && value != "cert" && value != "secret-key" &&
            value != "data") {
          return UriError(
              text, "type '" + value + "' is none of private, public, cert, secret-key, data");
        }
        uri.type = std::move(value);
        break;
    }
  }
  return uri;
}

std::string FormatPkcs11Uri(const Pkcs11Uri& uri) {
  std::string out(kScheme);
  bool first = true;
  auto add = [&](std::string_view name, std::string_view value, bool every_byte) {
    if (value.empty()) {
      return;
    }
    if (!first) {
      out.push_back(';');
    }
    first = false;
    out.append(name);
    out.push_back('=');
    Encode(value, every_byte, &out);
  };
  add("token", uri.token, false);
  add("serial", uri.serial, false);
  add("object", uri.object, false);
  add("id", AsText(uri.id), true);
  add("type", uri.type, false);
  return out;
}

}  // namespace signet::pkcs11
