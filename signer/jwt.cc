#include "signer/jwt.h"

#include <openssl/rand.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "signer/ossl.h"

namespace signet {
namespace {

StatusOr<boost::json::object> DecodeSegment(std::string_view segment, std::string_view what,
                                            const boost::json::storage_ptr& storage) {
  SIGNET_ASSIGN_OR_RETURN(Bytes json, Base64UrlDecode(segment));
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(AsText(json), ec, storage);
  if (ec || !value.is_object()) {
    return Status(Code::kInternal, "minted JWT " + std::string(what) + " is not a JSON object");
  }
  return std::move(value.as_object());
}

}  // namespace

std::string JwtSigningInput(const boost::json::object& header, const boost::json::object& claims) {
  return Base64UrlEncode(AsBytes(boost::json::serialize(header))) + "." +
         Base64UrlEncode(AsBytes(boost::json::serialize(claims)));
}

std::string JwtCompact(std::string_view signing_input, ByteView signature) {
  return std::string(signing_input) + "." + Base64UrlEncode(signature);
}

StatusOr<DecodedJwt> DecodeJwt(std::string_view token, boost::json::storage_ptr storage) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Status(Code::kInternal, "minted JWT does not have three segments");
  }
  // Objects of the same storage move by pointer; with any other they would be copied.
  DecodedJwt out{boost::json::object(storage), boost::json::object(storage), {}, {}};
  SIGNET_ASSIGN_OR_RETURN(out.header, DecodeSegment(token.substr(0, first), "header", storage));
  SIGNET_ASSIGN_OR_RETURN(
      out.claims, DecodeSegment(token.substr(first + 1, second - first - 1), "claims", storage));
  SIGNET_ASSIGN_OR_RETURN(out.signature, Base64UrlDecode(token.substr(second + 1)));
  out.signing_input = std::string(token.substr(0, second));
  return out;
}

StatusOr<std::string> RandomJti() {
  Bytes bytes(16);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return ossl::Error("RAND_bytes");
  }
  return Base64UrlEncode(bytes);
}

}  // namespace signet
