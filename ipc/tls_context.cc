#include "ipc/tls_context.h"

#include <openssl/x509v3.h>

namespace signet::ipc {
namespace {

Status SslError(std::string_view call, const boost::system::error_code& ec,
                const std::string& file) {
  return Status(Code::kInvalidArgument, std::string(call) + "('" + file + "'): " + ec.message());
}

// Verification callback for the mutual-TLS server: the chain must verify and the
// leaf must carry exactly one SPIFFE ID.
int VerifySpiffeClient(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok != 1) {
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0) {
    return 1;
  }
  if (!SpiffeIdOf(X509_STORE_CTX_get_current_cert(store)).ok()) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  return 1;
}

}  // namespace

StatusOr<std::string> SpiffeIdOf(X509* cert) {
  if (cert == nullptr) {
    return Status(Code::kPermissionDenied, "no peer certificate");
  }
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  std::string id;
  int uris = 0;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) {
      continue;
    }
    ++uris;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    id.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
              static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);

  if (uris != 1) {
    return Status(Code::kPermissionDenied, "client certificate has " + std::to_string(uris) +
                                               " URI SANs; exactly one SPIFFE ID is required");
  }
  if (id.rfind("spiffe://", 0) != 0 || id.size() <= 9) {
    return Status(Code::kPermissionDenied, "URI SAN '" + id + "' is not a SPIFFE ID");
  }
  return id;
}

StatusOr<std::shared_ptr<SslContext>> MakeTlsContext(TlsRole role, const TlsFiles& files) {
  auto ctx = std::make_shared<SslContext>(role == TlsRole::kClient ? SslContext::tls_client
                                                                   : SslContext::tls_server);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
    return Status(Code::kInternal, "SSL_CTX_set_min_proto_version(TLS1_3_VERSION) failed");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(native, 0);

  boost::system::error_code ec;
  if (!files.cert_file.empty()) {
    ctx->use_certificate_chain_file(files.cert_file, ec);
    if (ec) {
      return SslError("use_certificate_chain_file", ec, files.cert_file);
    }
    ctx->use_private_key_file(files.key_file, SslContext::pem, ec);
    if (ec) {
      return SslError("use_private_key_file", ec, files.key_file);
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      return Status(Code::kInvalidArgument, "SSL_CTX_check_private_key: key '" + files.key_file +
                                                "' does not match '" + files.cert_file + "'");
    }
  } else if (role != TlsRole::kClient) {
    return Status(Code::kInvalidArgument, "a TLS server needs a certificate file");
  }

  if (role == TlsRole::kServer) {
    return ctx;
  }
  ctx->load_verify_file(files.ca_file, ec);
  if (ec) {
    return SslError("load_verify_file", ec, files.ca_file);
  }
  if (role == TlsRole::kMutualServer) {
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       VerifySpiffeClient);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

ReloadingTlsContext::Stamp ReloadingTlsContext::StampFiles() const {
  Stamp stamp;
  const std::string* paths[3] = {&files_.cert_file, &files_.key_file, &files_.ca_file};
  for (int i = 0; i < 3; ++i) {
    std::error_code ec;
    stamp.mtime[i] = std::filesystem::last_write_time(*paths[i], ec);
    stamp.size[i] = std::filesystem::file_size(*paths[i], ec);
    if (ec) {
      stamp.size[i] = 0;
    }
  }
  return stamp;
}

Status ReloadingTlsContext::Reload() {
  Stamp stamp = StampFiles();
  auto ctx = MakeTlsContext(role_, files_);

  std::lock_guard lock(mu_);
  last_attempt_ = stamp;
  if (!ctx.ok()) {
    return ctx.status();
  }
  current_ = std::move(ctx).value();
  return OkStatus();
}

StatusOr<bool> ReloadingTlsContext::ReloadIfChanged() {
  {
    std::lock_guard lock(mu_);
    if (StampFiles() == last_attempt_) {
      return false;
    }
  }
  SIGNET_RETURN_IF_ERROR(Reload());
  return true;
}

std::shared_ptr<SslContext> ReloadingTlsContext::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace signet::ipc
