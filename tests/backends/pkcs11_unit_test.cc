// Unit tests of the PKCS#11 backend's parts that need no token: how a CK_RV becomes a
// Status, and how pkcs11: URIs are parsed and written.
#include "backends/pkcs11/ck_status.h"

#include <catch2/catch.hpp>

#include "backends/pkcs11/uri.h"

namespace signet::testing {

TEST_CASE("pkcs11 status names the failing call and keeps the raw code") {
  Status status = pkcs11::CkStatus("C_Sign", CKR_SESSION_HANDLE_INVALID);
  CHECK(status.code() == Code::kUnavailable);
  CHECK(status.retryable());
  CHECK(status.message() == "C_Sign: CKR_SESSION_HANDLE_INVALID");
  CHECK(status.raw_code() == CKR_SESSION_HANDLE_INVALID);
  CHECK(pkcs11::CkStatus("C_Sign", CKR_OK).ok());
  CHECK(pkcs11::CkStatus("C_Login", 0x80001234UL).message() == "C_Login: CKR_0x80001234");
}

TEST_CASE("pkcs11 status gives PIN, session and device failures codes of their own") {
  CHECK(pkcs11::CodeFor(CKR_PIN_INCORRECT) == Code::kWrongPin);
  CHECK(pkcs11::CodeFor(CKR_PIN_LOCKED) == Code::kPinLocked);
  CHECK(pkcs11::CodeFor(CKR_SESSION_CLOSED) == Code::kUnavailable);
  CHECK(pkcs11::CodeFor(CKR_USER_NOT_LOGGED_IN) == Code::kUnavailable);
  CHECK(pkcs11::CodeFor(CKR_DEVICE_REMOVED) == Code::kUnavailable);
  CHECK(pkcs11::CodeFor(CKR_TOKEN_NOT_PRESENT) == Code::kUnavailable);
  CHECK(pkcs11::CodeFor(CKR_DEVICE_ERROR) == Code::kDeviceError);
  CHECK(pkcs11::CodeFor(CKR_MECHANISM_INVALID) == Code::kUnsupported);

  // A wrong PIN must never lead to a new session and a second login.
  CHECK_FALSE(pkcs11::NeedsNewSession(CKR_PIN_INCORRECT));
  CHECK_FALSE(pkcs11::NeedsNewSession(CKR_PIN_LOCKED));
  CHECK(pkcs11::NeedsNewSession(CKR_SESSION_HANDLE_INVALID));
  CHECK(pkcs11::NeedsNewSession(CKR_DEVICE_ERROR));
}

TEST_CASE("pkcs11 URIs round-trip labels and ids with reserved bytes") {
  pkcs11::Pkcs11Uri uri;
  uri.token = "my token;1";
  uri.object = "key/α";
  uri.id = {0x00, 0x3b, 0xff, 0x25};
  uri.type = "private";
  std::string text = pkcs11::FormatPkcs11Uri(uri);
  CHECK(text == "pkcs11:token=my%20token%3b1;object=key%2f%ce%b1;id=%00%3b%ff%25;type=private");
  auto parsed = pkcs11::ParsePkcs11Uri(text);
  REQUIRE(parsed.ok());
  CHECK(parsed->token == uri.token);
  CHECK(parsed->object == uri.object);
  CHECK(parsed->id == uri.id);
  CHECK(parsed->type == uri.type);
}

TEST_CASE("pkcs11 URIs decode upper- and lower-case escapes and keep the last byte") {
  auto uri = pkcs11::ParsePkcs11Uri("pkcs11:object=a%2Fb;id=%0A%ff");
  REQUIRE(uri.ok());
  CHECK(uri->object == "a/b");
  CHECK(uri->id == Bytes{0x0a, 0xff});
  CHECK(uri->token.empty());
}

}  // namespace signet::testing
