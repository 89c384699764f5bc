#include "tools/signetctl/commands.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>
#include <limits>

#include "signer/bytes.h"
#include "signer/ossl.h"
#include "tools/common/duration.h"
#include "tools/common/pem.h"

namespace signet::ctl {
namespace {

StatusOr<uint32_t> TtlSeconds(const std::string& ttl) {
  SIGNET_ASSIGN_OR_RETURN(std::chrono::seconds seconds, ParseDuration(ttl, "--ttl"));
  if (seconds.count() > std::numeric_limits<uint32_t>::max()) {
    return Status(Code::kInvalidArgument, "--ttl '" + ttl + "' is too long");
  }
  return static_cast<uint32_t>(seconds.count());
}

Status RequireAudiences(const std::vector<std::string>& audiences) {
  if (audiences.empty()) {
    return Status(Code::kInvalidArgument, "give at least one --aud");
  }
  return OkStatus();
}

// A CSR file, PEM or DER, as DER. Only parsing is checked here; signetd checks the signature.
StatusOr<std::string> ReadCsrDer(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Code::kNotFound, "--csr " + path + ": cannot be read");
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  ossl::BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  ossl::X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(bytes.size())));
  }
  ERR_clear_error();
  if (!req) {
    return Status(Code::kInvalidArgument,
                  "--csr " + path +
                      ": not a PKCS#10 request in PEM or DER (make one with "
                      "`openssl req -new -key KEY -subj /CN=x -out FILE`)");
  }
  int len = i2d_X509_REQ(req.get(), nullptr);
  std::string der(static_cast<size_t>(len), '\0');
  uint8_t* out = reinterpret_cast<uint8_t*>(der.data());
  i2d_X509_REQ(req.get(), &out);
  return der;
}

Status ErrorStatus(const pb::Error& error) {
  return ipc::StatusFromError(error);
}

}  // namespace

StatusOr<pb::Request> BuildJwtSvidRequest(const JwtSvidArgs& args) {
  SIGNET_RETURN_IF_ERROR(RequireAudiences(args.audiences));
  SIGNET_ASSIGN_OR_RETURN(uint32_t ttl, TtlSeconds(args.ttl));

  pb::Request request;
  pb::JwtSvidParams* item = request.mutable_mint_jwt_svid()->add_items();
  item->set_spiffe_id(args.subject);
  for (const std::string& aud : args.audiences) {
    item->add_audience(aud);
  }
  item->set_ttl_seconds(ttl);
  return request;
}

StatusOr<pb::Request> BuildAccessTokenRequest(const AccessTokenArgs& args) {
  SIGNET_RETURN_IF_ERROR(RequireAudiences(args.audiences));
  SIGNET_ASSIGN_OR_RETURN(uint32_t ttl, TtlSeconds(args.ttl));

  pb::Request request;
  pb::AccessTokenParams* item = request.mutable_mint_access_token()->add_items();
  item->set_subject(args.subject);
  for (const std::string& aud : args.audiences) {
    item->add_audience(aud);
  }
  item->set_client_id(args.client_id);
  std::string scope;
  for (const std::string& s : args.scopes) {
    scope += (scope.empty() ? "" : " ") + s;
  }
  item->set_scope(scope);
  for (const std::string& actor : args.actors) {
    item->add_actors()->set_subject(actor);
  }
  item->set_ttl_seconds(ttl);
  return request;
}

StatusOr<pb::Request> BuildX509SvidRequest(const X509SvidArgs& args) {
  SIGNET_ASSIGN_OR_RETURN(uint32_t ttl, TtlSeconds(args.ttl));
  SIGNET_ASSIGN_OR_RETURN(std::string csr, ReadCsrDer(args.csr_file));

  pb::Request request;
  pb::X509SvidParams* item = request.mutable_issue_x509_svid()->add_items();
  item->set_csr(std::move(csr));
  item->set_spiffe_id(args.subject);
  item->set_ttl_seconds(ttl);
  return request;
}

StatusOr<pb::Request> BuildSignRequest(const SignArgs& args) {
  StatusOr<Bytes> digest = HexDecode(args.digest_hex);
  if (!digest.ok() || digest->empty()) {
    return Status(Code::kInvalidArgument,
                  "--digest must be the digest in hex, e.g. the first field of `sha256sum FILE`");
  }
  if (args.encoding != "der" && args.encoding != "raw") {
    return Status(Code::kInvalidArgument,
                  "--encoding '" + args.encoding + "': expected der or raw");
  }

  pb::Request request;
  pb::SignDigestParams* item = request.mutable_sign_digest()->add_items();
  item->set_key_name(args.key_id);
  item->set_digest(std::string(AsText(*digest)));
  item->set_encoding(args.encoding == "der" ? pb::SIGNATURE_ENCODING_DER
                                            : pb::SIGNATURE_ENCODING_RAW);
  return request;
}

pb::Request BuildJwksRequest() {
  pb::Request request;
  request.mutable_get_jwks();
  return request;
}

pb::Request BuildBundleRequest() {
  pb::Request request;
  request.mutable_get_bundle();
  return request;
}

StatusOr<std::string> FormatResponse(const pb::Response& response) {
  switch (response.result_case()) {
    case pb::Response::kError:
      return ErrorStatus(response.error());

    case pb::Response::kMintJwtSvid: {
      if (response.mint_jwt_svid().items_size() != 1) {
        break;
      }
      const pb::JwtSvidResult& item = response.mint_jwt_svid().items(0);
      if (item.has_error()) {
        return ErrorStatus(item.error());
      }
      return item.svid().token() + "\n";
    }

    case pb::Response::kMintAccessToken: {
      if (response.mint_access_token().items_size() != 1) {
        break;
      }
      const pb::AccessTokenResult& item = response.mint_access_token().items(0);
      if (item.has_error()) {
        return ErrorStatus(item.error());
      }
      return item.token().token() + "\n";
    }

    case pb::Response::kIssueX509Svid: {
      if (response.issue_x509_svid().items_size() != 1) {
        break;
      }
      const pb::X509SvidResult& item = response.issue_x509_svid().items(0);
      if (item.has_error()) {
        return ErrorStatus(item.error());
      }
      if (!item.svid().pem().empty()) {
        return item.svid().pem();
      }
      std::string pem = CertificateToPem(AsBytes(item.svid().certificate_der()));
      for (const std::string& der : item.svid().chain_der()) {
        pem += CertificateToPem(AsBytes(der));
      }
      return pem;
    }

    case pb::Response::kSignDigest: {
      if (response.sign_digest().items_size() != 1) {
        break;
      }
      const pb::SignatureResult& item = response.sign_digest().items(0);
      if (item.has_error()) {
        return ErrorStatus(item.error());
      }
      return HexEncode(AsBytes(item.signature().signature())) + "\n";
    }

    case pb::Response::kGetJwks:
      return response.get_jwks().jwks_json() + "\n";

    case pb::Response::kGetBundle:
      return response.get_bundle().bundle_json() + "\n";

    default:
      break;
  }
  return Status(Code::kInternal, "signetd answered with an unexpected response shape");
}

}  // namespace signet::ctl
