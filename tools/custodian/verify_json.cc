#include "tools/custodian/verify_json.h"

#include <boost/json.hpp>

namespace signet::custodian {

namespace json = boost::json;

json::value VerifyReportToJson(const audit::VerifyReport& report) {
  json::object o{{"ok", report.ok()},
                 {"records", report.records},
                 {"segments", report.segments},
                 {"last_seq", report.last_seq},
                 {"head_hash", report.head_hash},
                 {"checkpoints_verified", report.checkpoints_verified},
                 {"checkpoints_unchecked", report.checkpoints_unchecked},
                 {"problem", nullptr}};
  if (report.problem) {
    const audit::VerifyProblem& p = *report.problem;
    o["problem"] =
        json::object{{"segment", p.segment}, {"line", p.line}, {"seq", p.seq}, {"what", p.what}};
  }
  return o;
}

StatusOr<audit::VerifyReport> VerifyReportFromJson(const json::value& document) {
  try {
    const json::object& o = document.as_object();
    audit::VerifyReport report;
    report.records = json::value_to<uint64_t>(o.at("records"));
    report.segments = json::value_to<uint64_t>(o.at("segments"));
    report.last_seq = json::value_to<uint64_t>(o.at("last_seq"));
    report.head_hash = json::value_to<std::string>(o.at("head_hash"));
    report.checkpoints_verified = json::value_to<uint64_t>(o.at("checkpoints_verified"));
    report.checkpoints_unchecked = json::value_to<uint64_t>(o.at("checkpoints_unchecked"));
    if (const json::object* p = o.at("problem").if_object()) {
      report.problem = audit::VerifyProblem{
          json::value_to<std::string>(p->at("segment")), json::value_to<uint64_t>(p->at("line")),
          json::value_to<uint64_t>(p->at("seq")), json::value_to<std::string>(p->at("what"))};
    }
    return report;
  } catch (const std::exception& e) {
    return Status(Code::kInternal,
                  std::string("signetd's audit verification report is malformed: ") + e.what());
  }
}

}  // namespace signet::custodian
