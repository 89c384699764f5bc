#include "signer/audit/log.h"

#include <ctime>
#include <filesystem>
#include <future>
#include <utility>

namespace signet::audit {
namespace {

// The last line of `content[0, end)`, where content[end - 1] is its newline.
std::string_view LastLine(std::string_view content, size_t end) {
  if (end == 0) {
    return {};
  }
  size_t newline = end - 1;
  size_t before = newline == 0 ? std::string_view::npos : content.rfind('\n', newline - 1);
  size_t start = before == std::string_view::npos ? 0 : before + 1;
  return content.substr(start, newline - start);
}

}  // namespace

std::string FormatTime(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto micros = duration_cast<microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  long frac = static_cast<long>(micros % 1000000);
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

AuditLog::AuditLog(Options options) : options_(std::move(options)) {}

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Options options) {
  if (options.dir.empty()) {
    return Status(Code::kInvalidArgument, "audit log directory is empty");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return Status(Code::kUnavailable,
                  "creating audit log directory " + options.dir + ": " + ec.message());
  }
  StatusOr<FileLock> writer_lock = FileLock::TryAcquire(options.dir + "/writer.lock");
  if (!writer_lock.ok()) {
    return writer_lock.status().WithContext("audit log " + options.dir +
                                            ": another process has it open (signetd?): ");
  }
  SIGNET_ASSIGN_OR_RETURN(std::vector<SegmentInfo> segments, ListSegments(options.dir));

  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  log->writer_lock_.emplace(std::move(writer_lock).value());
  SIGNET_RETURN_IF_ERROR(log->Recover(segments));
  {
    std::lock_guard lock(log->mu_);
    log->health_.head_seq = log->head_seq_;
    log->health_.head_hash = log->head_hash_;
  }
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });

  if (log->open_report_.cut_torn_line) {
    const OpenReport& cut = log->open_report_;
    AuditRecord record;
    record.kind = RecordKind::kRecovery;
    record.caller = "signet";
    record.op = "log.truncated";
    record.reason = "cut a torn last line of " + std::to_string(cut.cut_bytes) +
                    " bytes at offset " + std::to_string(cut.cut_offset) + " of " +
                    cut.cut_segment + " at start-up";
    record.digest = cut.cut_digest;
    SIGNET_RETURN_IF_ERROR(log->AppendAndWait(std::move(record)).status());
  }
  return log;
}

std::string AuditLog::SegmentPath(uint32_t index) const {
  return options_.dir + "/" + SegmentName(index);
}

Status AuditLog::Recover(const std::vector<SegmentInfo>& segments) {
  head_seq_ = 0;
  head_hash_ = std::string(kZeroHash);
  // Not yet: a reopened segment's age and the count towards the next checkpoint start
  // afresh at Open; reading them back from the last records would make them exact.
  segment_opened_ = std::chrono::steady_clock::now();
  last_checkpoint_ = segment_opened_;

  if (segments.empty()) {
    segment_index_ = 1;
    SIGNET_ASSIGN_OR_RETURN(file_, SegmentFile::Open(SegmentPath(1)));
    durable_size_ = file_.size();
    return SyncDirectory(options_.dir);
  }

  // Cut a torn tail of the last segment back to its last complete line.
  const SegmentInfo& last = segments.back();
  segment_index_ = last.index;
  SIGNET_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(last.path));
  size_t keep = content.rfind('\n');
  keep = keep == std::string::npos ? 0 : keep + 1;
  SIGNET_ASSIGN_OR_RETURN(file_, SegmentFile::Open(last.path));
  if (keep < content.size()) {
    open_report_ = {true, last.name, keep, content.size() - keep,
                    Sha256Hex(std::string_view(content).substr(keep))};
    SIGNET_RETURN_IF_ERROR(file_.TruncateTo(keep));
  }
  durable_size_ = file_.size();

  // The head is the last complete record, in this segment or an earlier one.
  for (size_t i = segments.size(); i-- > 0;) {
    if (i + 1 < segments.size()) {
      SIGNET_ASSIGN_OR_RETURN(content, ReadWholeFile(segments[i].path));
      keep = content.rfind('\n');
      keep = keep == std::string::npos ? 0 : keep + 1;
    }
    std::string_view line = LastLine(content, keep);
    if (keep == 0) {
      continue;
    }
    std::string where = "last record of " + segments[i].name;
    SIGNET_ASSIGN_OR_RETURN(LineHashes hashes, HashLine(line));
    SIGNET_ASSIGN_OR_RETURN(AuditRecord record, ParseRecord(line));
    if (hashes.claimed != hashes.computed || record.hash != hashes.claimed) {
      return Status(Code::kFailedPrecondition,
                    where +
                        " does not match its hash; the log was altered or damaged "
                        "(run `signetctl audit verify`)");
    }
    head_seq_ = record.seq;
    head_hash_ = record.hash;
    head_time_ = record.time;
    break;
  }
  return OkStatus();
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) {
    writer_.join();
  }
}

void AuditLog::Enqueue(Pending pending) {
  Status refused;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) {
      refused = failed_;
    } else if (stopping_) {
      refused = Status(Code::kUnavailable, "audit log " + options_.dir + " is closing");
    } else {
      queued_records_ += pending.records.size();
      queue_.push_back(std::move(pending));
      // A busy writer takes these records with its next group without being woken.
      wake = writer_idle_ || (writer_gathering_ && GroupFull());
    }
    if (!refused.ok()) {
      health_.appends_refused += pending.records.size();
    }
  }
  if (refused.ok()) {
    if (wake) {
      wake_.notify_one();
    }
    return;
  }
  pending.done(refused);
}

void AuditLog::Append(AuditRecord record, AppendCallback done) {
  Pending pending{{}, std::move(done), false};
  pending.records.push_back(std::move(record));
  Enqueue(std::move(pending));
}

void AuditLog::AppendAll(std::vector<AuditRecord> records, AppendCallback done) {
  if (records.empty()) {
    done(uint64_t{0});
    return;
  }
  Enqueue(Pending{std::move(records), std::move(done), false});
}

StatusOr<uint64_t> AuditLog::AppendAndWait(AuditRecord record) {
  std::promise<StatusOr<uint64_t>> result;
  auto future = result.get_future();
  Append(std::move(record), [&result](StatusOr<uint64_t> seq) { result.set_value(seq); });
  return future.get();
}

StatusOr<uint64_t> AuditLog::CheckpointNow() {
  if (options_.checkpoint_key == nullptr) {
    return Status(Code::kFailedPrecondition, "audit log has no checkpoint key");
  }
  std::promise<StatusOr<uint64_t>> result;
  auto future = result.get_future();
  Enqueue(Pending{{}, [&result](StatusOr<uint64_t> seq) { result.set_value(seq); }, true});
  return future.get();
}

AuditHealth AuditLog::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

std::string AuditLog::Now() const {
  return FormatTime(options_.clock ? options_.clock() : std::chrono::system_clock::now());
}

}  // namespace signet::audit
