// X.509-SVIDs from CSRs, and raw signatures over caller-supplied digests.
#include "signer/csr.h"
#include "signer/minter.h"
#include "signer/minter_internal.h"
#include "signer/signature.h"
#include "signer/x509_sign.h"
#include "signer/x509_svid.h"

namespace signet {
namespace {

struct PendingCert {
  X509Authority ca;
  std::shared_ptr<X509> ca_cert;  // shared, read-only
  std::shared_ptr<const SignatureVerifier> ca_verifier;
  ossl::X509ReqPtr csr;  // checked; its SubjectPublicKeyInfo is certified as it is
  ossl::X509Ptr cert;
  Bytes tbs;  // what the CA key signs
  SvidTemplate tmpl;
  std::string serial_hex;
  AuditFields audit;
};

StatusOr<MintedCertificate> FinishCert(PendingCert& p, StatusOr<Bytes> signature) {
  if (!signature.ok()) {
    return signature.status().WithContext("signing X.509-SVID with the CA key: ");
  }
  SIGNET_ASSIGN_OR_RETURN(Bytes der, AttachSignature(p.cert.get(), *signature));
  // The issuer signature is always verified here, even when the backend checked it:
  // certificates are few, and this also checks the bytes released against the object.
  SIGNET_RETURN_IF_ERROR(
      CheckSvid(der, p.tbs, p.cert.get(), p.ca_cert.get(), *p.ca_verifier, p.tmpl, p.serial_hex));

  MintedCertificate out;
  out.pem = CertificatePem(der);
  out.cert_der = std::move(der);
  bool ca_is_root = X509_check_issued(p.ca_cert.get(), p.ca_cert.get()) == X509_V_OK;
  if (!ca_is_root) {
    out.chain_der.push_back(p.ca.cert_der);
    out.chain_der.insert(out.chain_der.end(), p.ca.chain_der.begin(), p.ca.chain_der.end());
  }
  for (const Bytes& c : out.chain_der) {
    out.pem += CertificatePem(c);
  }
  out.audit = p.audit;
  return out;
}

}  // namespace

void Minter::MintX509Svid(const Caller& caller, X509SvidRequest request,
                          MintCallback<MintedCertificate> done) {
  done = minter_internal::ReportIssued<MintedCertificate>(options_.on_issued, std::move(done));
  auto pending = std::make_shared<PendingCert>();
  auto prepare = [&]() -> Status {
    SIGNET_RETURN_IF_ERROR(minter_internal::CheckSpiffeSubject(
        request.spiffe_id, options_.trust_domain, "X.509-SVID subject"));
    SIGNET_ASSIGN_OR_RETURN(pending->csr, CheckCsr(request.csr));

    std::shared_ptr<const Policy> policy = this->policy();
    SIGNET_ASSIGN_OR_RETURN(
        Seconds ttl,
        minter_internal::ResolveTtl(*policy, caller.spiffe_id, Operation::kX509Svid, request.ttl));
    TimePoint now = std::chrono::floor<Seconds>(clock_->Now());
    AuthorizationRequest auth{Operation::kX509Svid, request.spiffe_id, {}, {}, ttl, ""};
    SIGNET_RETURN_IF_ERROR(policy->Authorize(caller.spiffe_id, auth, now));
    SIGNET_RETURN_IF_ERROR(
        minter_internal::CheckNotDenied(*deny_list_, request.spiffe_id, "subject"));

    std::shared_ptr<const KeySet> keys;
    Status ca_error;
    {
      std::lock_guard<std::mutex> lock(mu_);
      keys = keys_;
      pending->ca_cert = state_->ca_cert;
      pending->ca_verifier = state_->ca_verifier;
      ca_error = state_->ca_error;
    }
    if (!keys->x509_ca) {
      return Status(Code::kFailedPrecondition, "no X.509 CA is configured");
    }
    if (!pending->ca_cert) {
      return Status(Code::kFailedPrecondition,
                    "the X.509 CA certificate does not parse: " + ca_error.message());
    }
    pending->ca = *keys->x509_ca;
    SIGNET_ASSIGN_OR_RETURN(TimePoint ca_not_after, NotAfter(pending->ca_cert.get()));
    TimePoint not_after = std::min(now + ttl, ca_not_after);
    if (not_after <= now) {
      return Status(Code::kFailedPrecondition, "the issuing CA certificate has expired");
    }

    pending->tmpl = {request.spiffe_id, X509_REQ_get_X509_PUBKEY(pending->csr.get()),
                     now - options_.x509_backdate, not_after};
    SIGNET_ASSIGN_OR_RETURN(UnsignedCertificate unsigned_cert,
                            BuildSvid(pending->tmpl, pending->ca_cert.get()));
    pending->cert = std::move(unsigned_cert.cert);
    pending->serial_hex = unsigned_cert.serial_hex;
    SIGNET_RETURN_IF_ERROR(
        PrepareCertificateSignature(pending->cert.get(), pending->ca.key->algorithm()));
    pending->audit = {Operation::kX509Svid,
                      caller.spiffe_id,
                      SubjectKeyIdHex(pending->ca_cert.get()),
                      request.spiffe_id,
                      {},
                      {},
                      "",
                      pending->serial_hex,
                      now,
                      not_after};
    return OkStatus();
  };
  Status status = prepare();
  if (!status.ok()) {
    done(status);
    return;
  }
  StatusOr<Bytes> tbs = TbsBytes(pending->cert.get());
  if (!tbs.ok()) {
    done(tbs.status());
    return;
  }
  pending->tbs = *tbs;
  SigningKey& key = *pending->ca.key;
  key.Sign(SignRequest{std::move(*tbs), false, SignatureFormat::kDer},
           [pending, done = std::move(done)](StatusOr<Bytes> signature) {
             done(FinishCert(*pending, std::move(signature)));
           });
}

void Minter::SignRaw(const Caller& caller, RawSignRequest request,
                     MintCallback<RawSignature> done) {
  done = minter_internal::ReportIssued<RawSignature>(options_.on_issued, std::move(done));
  RawKey raw;
  std::shared_ptr<const minter_internal::CheckMap> checks;
  AuditFields audit;
  auto prepare = [&]() -> Status {
    TimePoint now = std::chrono::floor<Seconds>(clock_->Now());
    AuthorizationRequest auth{Operation::kRawSign, "", {}, {}, Seconds(0), request.key_name};
    SIGNET_RETURN_IF_ERROR(policy()->Authorize(caller.spiffe_id, auth, now));
    std::shared_ptr<const KeySet> keys;
    {
      std::lock_guard<std::mutex> lock(mu_);
      keys = keys_;
      checks = state_->checks;
    }
    auto it = keys->raw.find(request.key_name);
    if (it == keys->raw.end()) {
      return Status(Code::kNotFound, "no raw signing key named '" + request.key_name + "'");
    }
    raw = it->second;
    SignRequest check{request.digest, true, request.format};
    SIGNET_RETURN_IF_ERROR(CheckSignRequest(raw.key->algorithm(), check)
                               .WithContext("raw signature with key '" + request.key_name + "': "));
    audit = {Operation::kRawSign, caller.spiffe_id, request.key_name, "", {}, {}, "", "", now, now};
    return OkStatus();
  };
  Status status = prepare();
  if (!status.ok()) {
    done(status);
    return;
  }
  SignRequest sign{std::move(request.digest), true, request.format};
  auto finish = [raw, checks, sign, audit, done = std::move(done)](StatusOr<Bytes> signature) {
    if (!signature.ok()) {
      done(signature.status().WithContext("raw signature with key '" + audit.kid + "': "));
      return;
    }
    if (!raw.backend_verifies) {
      Status valid = minter_internal::CheckWith(*checks, *raw.key, sign, *signature);
      if (!valid.ok()) {
        done(valid);
        return;
      }
    }
    done(RawSignature{std::move(*signature), raw.key->algorithm(), audit});
  };
  SignRequest to_send = sign;
  raw.key->Sign(std::move(to_send), std::move(finish));
}

}  // namespace signet
