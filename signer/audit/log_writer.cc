// The writer thread of AuditLog: group commit, segment rotation, checkpoints and
// the failed state. Everything here runs on the writer thread only.
#include <utility>

#include "signer/audit/log.h"
#include "signer/bytes.h"

namespace signet::audit {

void AuditLog::WriterLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    auto deadline = std::chrono::steady_clock::time_point::max();
    if (!failed_.ok()) {
      deadline = failed_at_ + options_.retry_interval;
    } else if (options_.checkpoint_key && options_.checkpoint_interval.count() > 0 &&
               since_checkpoint_ > 0) {
      deadline = last_checkpoint_ + options_.checkpoint_interval;
    }
    writer_idle_ = true;
    wake_.wait_until(lock, deadline, [this] { return !queue_.empty() || stopping_; });
    writer_idle_ = false;

    if (!failed_.ok()) {
      if (stopping_) {
        break;
      }
      if (std::chrono::steady_clock::now() >= failed_at_ + options_.retry_interval) {
        lock.unlock();
        TryResume();
        lock.lock();
      }
      continue;
    }

    if (queue_.empty()) {
      if (stopping_) {
        break;
      }
      lock.unlock();
      (void)MaybeCheckpoint(false);
      lock.lock();
      continue;
    }

    // Under load, let the group fill until a window has passed since the last sync began.
    if (options_.sync && options_.group_window.count() > 0 && !stopping_ && !GroupFull()) {
      auto window_end = last_sync_start_ + options_.group_window;
      if (std::chrono::steady_clock::now() < window_end) {
        writer_gathering_ = true;
        wake_.wait_until(lock, window_end, [this] { return stopping_ || GroupFull(); });
        writer_gathering_ = false;
      }
    }

    std::vector<Pending> group = std::move(spare_);  // empty; keeps the last group's storage
    if (options_.max_group_records > 0 && queued_records_ > options_.max_group_records) {
      auto end = queue_.begin();
      size_t taken = 0;
      while (end != queue_.end() &&
             (taken == 0 || taken + end->records.size() <= options_.max_group_records)) {
        taken += end->records.size();
        ++end;
      }
      group.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
      queued_records_ -= taken;
    } else {
      group.swap(queue_);
      queued_records_ = 0;
    }
    lock.unlock();
    WriteGroup(group);
    group.clear();
    spare_ = std::move(group);
    (void)MaybeCheckpoint(false);
    lock.lock();

    // Sleep out the window here rather than be woken by the next record only to wait for
    // the window then: under load that wake-up preempted the network thread once a group.
    if (options_.sync && options_.group_window.count() > 0 && failed_.ok()) {
      writer_gathering_ = true;
      wake_.wait_until(lock, last_sync_start_ + options_.group_window,
                       [this] { return stopping_ || GroupFull(); });
      writer_gathering_ = false;
    }
  }
}

bool AuditLog::GroupFull() const {
  // Without a configured bound, a group this large shares its sync well enough.
  constexpr size_t kFullGroup = 4096;
  size_t full = options_.max_group_records > 0 ? options_.max_group_records : kFullGroup;
  return queued_records_ >= full;
}

void AuditLog::WriteGroup(std::vector<Pending>& group) {
  size_t count = 0;
  for (const Pending& pending : group) {
    count += pending.records.size();
  }
  std::vector<AuditRecord*> records;
  records.reserve(count);
  bool checkpoint_requested = false;
  for (Pending& pending : group) {
    checkpoint_requested |= pending.checkpoint_request;
    for (AuditRecord& record : pending.records) {
      records.push_back(&record);
    }
  }

  if (!records.empty()) {
    Status written = WriteRecords(records);
    if (!written.ok()) {
      EnterFailed(written, group);
      return;
    }
  }

  // Durable: acknowledge.
  StatusOr<uint64_t> checkpoint = uint64_t{0};
  if (checkpoint_requested) {
    checkpoint = MaybeCheckpoint(true);
  }
  for (Pending& pending : group) {
    if (pending.checkpoint_request) {
      pending.done(checkpoint);
    } else {
      pending.done(pending.records.back().seq);
    }
  }
}

Status AuditLog::WriteRecords(std::vector<AuditRecord*>& records) {
  SIGNET_RETURN_IF_ERROR(RotateIfDue());

  last_sync_start_ = std::chrono::steady_clock::now();
  std::string buffer;
  buffer.reserve(records.size() * 640);
  uint64_t seq = head_seq_;
  std::string prev = head_hash_;
  uint64_t events = 0;
  // One time for the group: its records become durable together. Not monotonic if the
  // wall clock steps back; seq orders records.
  const std::string time = Now();
  for (AuditRecord* record : records) {
    record->seq = ++seq;
    record->time = time;
    record->prev = std::move(prev);
    AppendEncodedRecord(*record, buffer);
    buffer += '\n';
    prev = record->hash;
    events += record->kind == RecordKind::kCheckpoint ? 0 : 1;
  }

  SIGNET_RETURN_IF_ERROR(file_.Append(buffer));
  if (options_.sync) {
    SIGNET_RETURN_IF_ERROR(file_.Sync());
  }

  durable_size_ = file_.size();
  head_seq_ = seq;
  head_hash_ = prev;
  head_time_ = records.back()->time;
  since_checkpoint_ += events;
  std::lock_guard lock(mu_);
  health_.records_written += records.size();
  health_.syncs += options_.sync ? 1 : 0;
  health_.head_seq = head_seq_;
  health_.head_hash = head_hash_;
  return OkStatus();
}

Status AuditLog::RotateIfDue() {
  auto age = std::chrono::steady_clock::now() - segment_opened_;
  bool full = file_.size() >= options_.max_segment_bytes;
  bool old = file_.size() > 0 && age >= options_.max_segment_age;
  if (!full && !old) {
    return OkStatus();
  }

  std::string path = SegmentPath(segment_index_ + 1);
  SIGNET_ASSIGN_OR_RETURN(SegmentFile next, SegmentFile::Open(path));
  if (next.size() != 0) {
    return Status(Code::kUnavailable, "new audit segment " + path + " already holds " +
                                          std::to_string(next.size()) + " bytes");
  }
  SIGNET_RETURN_IF_ERROR(SyncDirectory(options_.dir));
  file_ = std::move(next);
  segment_index_ += 1;
  durable_size_ = 0;
  segment_opened_ = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  ++health_.segments_opened;
  return OkStatus();
}

StatusOr<uint64_t> AuditLog::MaybeCheckpoint(bool forced) {
  const std::shared_ptr<SigningKey>& key = options_.checkpoint_key;
  if (key == nullptr) {
    return forced ? StatusOr<uint64_t>(Status(Code::kFailedPrecondition, "no checkpoint key"))
                  : StatusOr<uint64_t>(uint64_t{0});
  }
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) {
      return failed_;
    }
  }
  auto now = std::chrono::steady_clock::now();
  bool by_count = options_.checkpoint_every_records > 0 &&
                  since_checkpoint_ >= options_.checkpoint_every_records;
  bool by_time = options_.checkpoint_interval.count() > 0 &&
                 now - last_checkpoint_ >= options_.checkpoint_interval;
  if (!forced && (since_checkpoint_ == 0 || (!by_count && !by_time))) {
    return uint64_t{0};
  }
  if (head_seq_ == 0) {
    return Status(Code::kFailedPrecondition, "audit log is empty: nothing to checkpoint");
  }

  last_checkpoint_ = now;
  std::string payload = CheckpointPayload(head_seq_, head_hash_, head_time_);
  SignRequest request;
  request.input.assign(payload.begin(), payload.end());
  // The writer waits for this one signature; records queue meanwhile and go in the next group.
  StatusOr<Bytes> signature = key->SignAndWait(std::move(request));
  if (!signature.ok()) {
    std::lock_guard lock(mu_);
    ++health_.checkpoint_failures;
    return signature.status().WithContext("signing audit checkpoint: ");
  }

  AuditRecord record;
  record.kind = RecordKind::kCheckpoint;
  record.key = options_.checkpoint_key_id;
  record.checkpoint = {head_seq_, head_hash_, head_time_,
                       std::string(AlgorithmName(key->algorithm())), Base64UrlEncode(*signature)};
  std::vector<AuditRecord*> records{&record};
  Status written = WriteRecords(records);
  if (!written.ok()) {
    std::vector<Pending> none;
    EnterFailed(written, none);
    return written;
  }
  since_checkpoint_ = 0;
  std::lock_guard lock(mu_);
  ++health_.checkpoints_written;
  return record.seq;
}

void AuditLog::EnterFailed(const Status& error, std::vector<Pending>& group) {
  std::vector<Pending> queued;
  {
    std::lock_guard lock(mu_);
    if (failed_.ok()) {
      failed_since_ = Now();
    }
    failed_ = error;
    failed_at_ = std::chrono::steady_clock::now();
    health_.writable = false;
    health_.error = error;
    ++health_.write_failures;
    queued.swap(queue_);
    queued_records_ = 0;
    for (const std::vector<Pending>* pendings : {&group, &queued}) {
      for (const Pending& pending : *pendings) {
        health_.appends_refused += pending.records.size();
      }
    }
  }
  for (Pending& pending : group) {
    pending.done(error);
  }
  for (Pending& pending : queued) {
    pending.done(error);
  }
}

void AuditLog::TryResume() {
  auto still_failing = [this](const Status& error) {
    std::lock_guard lock(mu_);
    failed_ = error;
    failed_at_ = std::chrono::steady_clock::now();
    health_.error = error;
  };

  // Cut whatever part of the failed group reached the file: it was never acknowledged.
  StatusOr<SegmentFile> reopened = SegmentFile::Open(SegmentPath(segment_index_));
  if (!reopened.ok()) {
    return still_failing(reopened.status());
  }
  Status cut = reopened->TruncateTo(durable_size_);
  if (!cut.ok()) {
    return still_failing(cut);
  }
  file_ = std::move(reopened).value();

  Status cause;
  {
    std::lock_guard lock(mu_);
    cause = failed_;
  }
  AuditRecord record;
  record.kind = RecordKind::kRecovery;
  record.caller = "signet";
  record.op = "log.resumed";
  record.reason = "writing failed from " + failed_since_ + " (" + cause.message() +
                  "); records refused meanwhile were never acknowledged";
  std::vector<AuditRecord*> records{&record};
  Status written = WriteRecords(records);
  if (!written.ok()) {
    return still_failing(written);
  }
  std::lock_guard lock(mu_);
  failed_ = OkStatus();
  health_.writable = true;
  health_.error = OkStatus();
}

}  // namespace signet::audit
