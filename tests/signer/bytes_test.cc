#include "signer/bytes.h"

#include <catch2/catch.hpp>

namespace signet {

TEST_CASE("base64url encodes without padding as RFC 4648 section 10 shows", "[bytes]") {
  CHECK(Base64UrlEncode(AsBytes("")) == "");
  CHECK(Base64UrlEncode(AsBytes("f")) == "Zg");
  CHECK(Base64UrlEncode(AsBytes("fo")) == "Zm8");
  CHECK(Base64UrlEncode(AsBytes("foo")) == "Zm9v");
  CHECK(Base64UrlEncode(AsBytes("foob")) == "Zm9vYg");
  CHECK(Base64Encode(AsBytes("f")) == "Zg==");
  CHECK(Base64Encode(AsBytes("fooba")) == "Zm9vYmE=");
  CHECK(Base64Encode(AsBytes("foobar")) == "Zm9vYmFy");
  Bytes high = {0xfb, 0xff};
  CHECK(Base64UrlEncode(high) == "-_8");
  CHECK(Base64Encode(high) == "+/8=");
}

TEST_CASE("base64url decoding round-trips and names a bad character's offset", "[bytes]") {
  Bytes data = {0, 1, 2, 250, 251, 252, 253, 254, 255};
  auto back = Base64UrlDecode(Base64UrlEncode(data));
  REQUIRE(back.ok());
  CHECK(*back == data);
  for (size_t size = 0; size <= data.size(); ++size) {
    Bytes prefix(data.begin(), data.begin() + static_cast<long>(size));
    auto again = Base64UrlDecode(Base64UrlEncode(prefix));
    REQUIRE(again.ok());
    CHECK(*again == prefix);
  }

  auto bad = Base64UrlDecode("ab+d");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("offset 2"));
  auto bad_tail = Base64UrlDecode("Zm9vYm=");
  REQUIRE_FALSE(bad_tail.ok());
  CHECK_THAT(bad_tail.status().message(), Catch::Contains("offset 6"));
  CHECK_FALSE(Base64UrlDecode("Zm9vY").ok());
}

TEST_CASE("hex decoding rejects odd lengths and non-hex digits", "[bytes]") {
  auto ok = HexDecode("00ffA0");
  REQUIRE(ok.ok());
  CHECK(*ok == Bytes{0x00, 0xff, 0xa0});
  CHECK(HexEncode(*ok) == "00ffa0");
  CHECK(HexDecode("abc").status().code() == Code::kInvalidArgument);
  CHECK_THAT(HexDecode("zz").status().message(), Catch::Contains("offset 0"));
}

}  // namespace signet
