#include "signer/audit/mint_record.h"

#include <chrono>

namespace signet::audit {
namespace {

AuditRecord FromFields(const AuditFields& fields) {
  AuditRecord record;
  record.caller = fields.caller;
  record.op = std::string(OperationName(fields.operation));
  record.key = fields.kid;
  record.subject = fields.subject;
  record.audiences = fields.audiences;
  for (const signet::Actor& actor : fields.actors) {
    record.act.push_back({actor.sub, actor.iss});
  }
  record.jti = fields.jti;
  record.serial = fields.serial_hex;
  if (fields.expires_at > fields.issued_at) {
    record.ttl_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(fields.expires_at - fields.issued_at)
            .count();
  }
  return record;
}

}  // namespace

AuditRecord RecordForMint(const AuditFields& fields, ByteView returned) {
  AuditRecord record = FromFields(fields);
  record.granted = true;
  record.digest = Sha256Hex(AsText(returned));
  return record;
}

AuditRecord RecordForRefusal(const AuditFields& requested, const Status& why) {
  AuditRecord record = FromFields(requested);
  record.granted = false;
  record.reason = why.ToString();
  return record;
}

}  // namespace signet::audit
