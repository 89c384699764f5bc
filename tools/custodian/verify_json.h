// An audit verification report as JSON, the form in which signetd answers `audit verify`:
//   {"ok", "records", "segments", "last_seq", "head_hash", "checkpoints_verified",
//    "checkpoints_unchecked", "problem": null | {"segment", "line", "seq", "what"}}
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/value.hpp>

#include "signer/audit/verify.h"

namespace signet::custodian {

boost::json::value VerifyReportToJson(const audit::VerifyReport& report);

// kInternal naming the member when `document` is not such a report.
StatusOr<audit::VerifyReport> VerifyReportFromJson(const boost::json::value& document);

}  // namespace signet::custodian
