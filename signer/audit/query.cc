#include "signer/audit/query.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstring>
#include <ctime>
#include <vector>

#include "signer/audit/log.h"
#include "signer/audit/segment.h"

namespace signet::audit {
namespace {

constexpr std::string_view kTimeMember = "\"time\":\"";
constexpr size_t kTimeSize = 27;  // 2026-12-03T17:28:00.123456Z

// The `time` member of a line, found without parsing it; empty when absent.
std::string_view LineTime(std::string_view line) {
  size_t at = line.substr(0, 64).find(kTimeMember);
  if (at == std::string_view::npos || line.size() < at + kTimeMember.size() + kTimeSize) {
    return {};
  }
  return line.substr(at + kTimeMember.size(), kTimeSize);
}

bool Matches(const QueryFilter& f, const AuditRecord& r) {
  if (r.kind == RecordKind::kCheckpoint) {
    return false;
  }
  if (!f.subject.empty() && r.subject != f.subject) {
    return false;
  }
  if (!f.caller.empty() && r.caller != f.caller) {
    return false;
  }
  if (!f.key.empty() && r.key != f.key) {
    return false;
  }
  if (!f.op.empty() && r.op != f.op) {
    return false;
  }
  if (!f.principal.empty() && r.subject != f.principal) {
    bool acted = false;
    for (const Actor& actor : r.act) {
      acted = acted || actor.sub == f.principal;
    }
    if (!acted) {
      return false;
    }
  }
  return true;
}

std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  out += '"';
  return out;
}

}  // namespace

StatusOr<std::string> NormalizeTime(std::string_view text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  std::string s(text);
  long micros = 0;
  bool ok = false;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &consumed) == 3 &&
      static_cast<size_t>(consumed) == s.size()) {
    ok = true;
  } else if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour,
                         &minute, &second, &consumed) == 6) {
    std::string_view rest = std::string_view(s).substr(static_cast<size_t>(consumed));
    if (!rest.empty() && rest[0] == '.') {
      size_t digits = 1;
      long scale = 100000;
      while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
        micros += scale * (rest[digits] - '0');
        scale /= 10;
        digits += 1;
      }
      rest.remove_prefix(digits);
    }
    ok = rest == "Z" || rest == "+00:00";
  }
  if (!ok || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return Status(Code::kInvalidArgument,
                  "time '" + s + "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.frac]Z (UTC)");
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto point =
      std::chrono::system_clock::from_time_t(::timegm(&tm)) + std::chrono::microseconds(micros);
  return FormatTime(point);
}

StatusOr<QueryStats> QueryLog(const std::string& dir, const QueryFilter& filter,
                              const QuerySink& sink) {
  std::vector<std::string> needles;
  for (const std::string* value :
       {&filter.subject, &filter.principal, &filter.caller, &filter.key, &filter.op}) {
    if (!value->empty()) {
      needles.push_back(JsonString(*value));
    }
  }
  SIGNET_ASSIGN_OR_RETURN(std::vector<SegmentInfo> segments, ListSegments(dir));

  QueryStats stats;
  for (const SegmentInfo& segment : segments) {
    SIGNET_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(segment.path));
    std::string_view rest = content;
    uint64_t line_number = 0;
    for (size_t end; (end = rest.find('\n')) != std::string_view::npos;
         rest.remove_prefix(end + 1)) {
      std::string_view line = rest.substr(0, end);
      line_number += 1;
      stats.lines += 1;

      bool candidate = true;
      for (const std::string& needle : needles) {
        candidate = candidate && line.find(needle) != std::string_view::npos;
      }
      std::string_view time = LineTime(line);
      candidate = candidate && (filter.since.empty() || time >= filter.since) &&
                  (filter.until.empty() || time < filter.until);
      if (!candidate) {
        continue;
      }

      stats.parsed += 1;
      StatusOr<AuditRecord> record = ParseRecord(line);
      if (!record.ok()) {
        return record.status().WithContext(segment.name + " line " + std::to_string(line_number) +
                                           ": ");
      }
      if (Matches(filter, *record)) {
        stats.matched += 1;
        sink(*record, line);
      }
    }
  }
  return stats;
}

std::string CsvHeader() {
  return "seq,time,kind,caller,op,key,subject,aud,act,jti,serial,ttl,result,reason,digest";
}

std::string CsvRow(const AuditRecord& r) {
  std::string aud;
  for (const std::string& a : r.audiences) {
    aud += (aud.empty() ? "" : " ") + a;
  }
  std::string act;
  for (const Actor& actor : r.act) {
    act += (act.empty() ? "" : " > ") + actor.sub;
  }
  std::vector<std::string> fields = {std::to_string(r.seq),
                                     r.time,
                                     std::string(RecordKindName(r.kind)),
                                     r.caller,
                                     r.op,
                                     r.key,
                                     r.subject,
                                     aud,
                                     act,
                                     r.jti,
                                     r.serial,
                                     std::to_string(r.ttl_seconds),
                                     r.granted ? "granted" : "refused",
                                     r.reason,
                                     r.digest};
  std::string row;
  for (size_t i = 0; i < fields.size(); ++i) {
    row += (i == 0 ? "" : ",") + CsvField(fields[i]);
  }
  return row;
}

StatusOr<std::string> ExportCheckpoints(const std::string& dir) {
  SIGNET_ASSIGN_OR_RETURN(std::vector<SegmentInfo> segments, ListSegments(dir));
  boost::json::array out;
  for (const SegmentInfo& segment : segments) {
    SIGNET_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(segment.path));
    std::string_view rest = content;
    for (size_t end; (end = rest.find('\n')) != std::string_view::npos;
         rest.remove_prefix(end + 1)) {
      std::string_view line = rest.substr(0, end);
      if (line.find("\"kind\":\"checkpoint\"") == std::string_view::npos) {
        continue;
      }
      SIGNET_ASSIGN_OR_RETURN(AuditRecord r, ParseRecord(line));
      boost::json::object cp;
      cp["record_seq"] = r.seq;
      cp["time"] = r.time;
      cp["key"] = r.key;
      cp["head_seq"] = r.checkpoint.head_seq;
      cp["head_hash"] = r.checkpoint.head_hash;
      cp["head_time"] = r.checkpoint.head_time;
      cp["alg"] = r.checkpoint.algorithm;
      cp["sig"] = r.checkpoint.signature;
      out.emplace_back(std::move(cp));
    }
  }
  return boost::json::serialize(out);
}

}  // namespace signet::audit
