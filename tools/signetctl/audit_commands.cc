#include "tools/signetctl/audit_commands.h"

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <iostream>
#include <memory>
#include <ostream>
#include <string>

#include "signer/audit/key_file.h"
#include "signer/audit/query.h"
#include "signer/audit/verify.h"

namespace signet::tools {
namespace {

constexpr const char* kDefaultDir = "/var/lib/signet/audit";
constexpr int kExitAltered = 1;
constexpr int kExitError = 2;

[[noreturn]] void Fail(const Status& status) {
  std::cerr << "signet audit: " << status.ToString() << "\n";
  throw CLI::RuntimeError(kExitError);
}

struct VerifyArgs {
  std::string dir = kDefaultDir;
  std::string from;
  std::string key_file;
};

void RunVerify(const VerifyArgs& args) {
  audit::VerifyOptions options;
  options.dir = args.dir;
  options.from_segment = args.from;
  if (!args.key_file.empty()) {
    auto keys = audit::LoadPublicKeys(args.key_file);
    if (!keys.ok()) {
      Fail(keys.status());
    }
    options.checkpoint_keys = std::move(keys).value();
  }

  StatusOr<audit::VerifyReport> report = audit::VerifyLog(options);
  if (!report.ok()) {
    Fail(report.status());
  }
  int status =
      PrintVerifyReport(*report, args.key_file.empty() ? " (no --key given)" : "", std::cout);
  if (status != 0) {
    throw CLI::RuntimeError(status);
  }
}

struct QueryArgs {
  std::string dir = kDefaultDir;
  audit::QueryFilter filter;
  std::string format = "json";
};

void RunQuery(QueryArgs args) {
  for (std::string* time : {&args.filter.since, &args.filter.until}) {
    if (!time->empty()) {
      StatusOr<std::string> normal = audit::NormalizeTime(*time);
      if (!normal.ok()) {
        Fail(normal.status());
      }
      *time = *normal;
    }
  }
  bool csv = args.format == "csv";
  if (csv) {
    std::cout << audit::CsvHeader() << "\n";
  }
  auto printed = audit::QueryLog(args.dir, args.filter,
                                 [csv](const audit::AuditRecord& record, std::string_view line) {
                                   if (csv) {
                                     std::cout << audit::CsvRow(record) << "\n";
                                   } else {
                                     std::cout << line << "\n";
                                   }
                                 });
  std::cout.flush();
  if (!printed.ok()) {
    Fail(printed.status());
  }
}

}  // namespace

int PrintVerifyReport(const audit::VerifyReport& report, const std::string& unchecked_note,
                      std::ostream& out) {
  if (report.problem) {
    const audit::VerifyProblem& p = *report.problem;
    out << "FAILED: first bad record: segment " << p.segment << " line " << p.line << " seq "
        << p.seq << ": " << p.what << "\n"
        << "verified before it: " << report.records << " records, last seq " << report.last_seq
        << "\n";
    return kExitAltered;
  }
  out << "OK: " << report.records << " records in " << report.segments << " segments, last seq "
      << report.last_seq << ", head " << report.head_hash
      << "\ncheckpoints: " << report.checkpoints_verified << " verified, "
      << report.checkpoints_unchecked << " not checked"
      << (report.checkpoints_unchecked != 0 ? unchecked_note : "") << "\n";
  return 0;
}

void AddAuditCommands(CLI::App& app, RemoteVerify* remote) {
  CLI::App* audit = app.add_subcommand("audit", "Verify and query the audit log");
  audit->require_subcommand(1);

  auto verify_args = std::make_shared<VerifyArgs>();
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check the hash chain and checkpoint signatures; print the first bad record");
  verify->add_option("--dir", verify_args->dir, "Audit log directory, or a copy of it")
      ->capture_default_str();
  verify->add_option("--from", verify_args->from,
                     "Start at this segment (e.g. 00000003.jsonl) and trust its first prev");
  verify
      ->add_option("--key", verify_args->key_file,
                   "Audit public key: SPKI PEM or DER, a JWK or a JWKS")
      ->check(CLI::ExistingFile);
  bool* through_signetd = nullptr;
  if (remote != nullptr) {
    through_signetd = &remote->requested;
    verify->add_flag("--signetd", *through_signetd,
                     "Ask the running signetd (client config: --config) to verify its own log "
                     "with its audit key");
  }
  verify->callback([verify_args, remote] {
    if (remote != nullptr && remote->requested) {
      remote->from_segment = verify_args->from;
      return;
    }
    RunVerify(*verify_args);
  });

  auto query_args = std::make_shared<QueryArgs>();
  CLI::App* query = audit->add_subcommand(
      "query", "Records matching every filter given, oldest first (checkpoints excluded)");
  audit::QueryFilter& f = query_args->filter;
  query->add_option("--dir", query_args->dir, "Audit log directory")->capture_default_str();
  query->add_option("--subject", f.subject, "The credential's subject");
  query->add_option("--principal", f.principal,
                    "The subject or any actor of the act chain (on behalf of, or through)");
  query->add_option("--caller", f.caller, "The client's SPIFFE ID");
  query->add_option("--key", f.key, "Key id");
  query->add_option("--op", f.op, "Operation, e.g. access_token, x509_svid, key.activate");
  query->add_option("--since", f.since, "From this UTC time, inclusive (2026-10-01[T..Z])");
  query->add_option("--until", f.until, "Before this UTC time, exclusive");
  query->add_option("--format", query_args->format, "json (JSON Lines) or csv")
      ->check(CLI::IsMember({"json", "csv"}))
      ->capture_default_str();
  query->callback([query_args] { RunQuery(*query_args); });

  auto export_dir = std::make_shared<std::string>(kDefaultDir);
  CLI::App* checkpoints =
      audit->add_subcommand("checkpoints", "Print every checkpoint as JSON, for publishing");
  checkpoints->add_option("--dir", *export_dir, "Audit log directory")->capture_default_str();
  checkpoints->callback([export_dir] {
    StatusOr<std::string> json = audit::ExportCheckpoints(*export_dir);
    if (!json.ok()) {
      Fail(json.status());
    }
    std::cout << *json << "\n";
  });
}

}  // namespace signet::tools
