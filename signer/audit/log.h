// AuditLog: the durable, hash-chained, append-only log of everything signet signs.
//
// Append() queues a record and returns at once. One writer thread takes every
// record queued so far, gives each its sequence number, time and the hash of the
// record before it, writes them all to the current segment with one write, makes
// them durable with one fdatasync, and only then completes their callbacks (group
// commit). The caller sends its response from the callback, so no credential
// leaves signet before its record is on disk, while thousands of records share one
// sync. No lock is held while writing or syncing.
//
// A sync costs the writer about 100 µs of CPU whatever the group holds, so under
// load a group also waits until `group_window` has passed since the previous sync
// began (or until `max_group_records` are queued): one core then spends at most one
// sync's CPU per window on syncing, however many records arrive. A log that was
// idle for a window writes a new record at once; a busy one adds at most the window
// to a record's latency. After each sync the writer sleeps out the window; Append
// wakes it only when it is idle or its group is full, not once per record.
//
// At an interval (every N records or T seconds) the writer signs the head of the
// chain with the audit key and appends a checkpoint record; it waits for that one
// signature, so a slow audit key delays the next group by one signing time. At start-up Open()
// cuts a torn last line (the tail of a write a crash interrupted; never
// acknowledged) and records the cut as a recovery record.
//
// When writing fails (disk full, read-only file system, EIO) the log enters a
// failed state: the failed group and every queued or later Append complete with
// kUnavailable naming the path and errno, and health() says so. Every
// retry_interval the writer cuts the segment back to its last durable length and
// appends a recovery record; when that succeeds the log accepts records again.
// Nothing acknowledged is lost; nothing that failed was acknowledged.
//
// Lifetime: the destructor writes everything still queued, completes every
// callback and joins the writer. The checkpoint key must outlive the log.
//
// Thread safety: Append, AppendAndWait, CheckpointNow and health may be called from
// any thread at any time. Callbacks run on the writer thread (or, while the log is
// failed, on the thread calling Append): keep them short and never call
// AppendAndWait or destroy the log from one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "signer/atomic_file.h"
#include "signer/audit/record.h"
#include "signer/audit/segment.h"
#include "signer/backend.h"
#include "signer/status.h"

namespace signet::audit {

// Called exactly once with the record's sequence number once it is durable, or
// with the reason it was not written.
using AppendCallback = std::function<void(StatusOr<uint64_t>)>;

using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct AuditHealth {
  bool writable = true;
  Status error;           // why writing fails, while !writable
  uint64_t head_seq = 0;  // last durable record
  std::string head_hash;
  uint64_t records_written = 0;  // all kinds, since Open
  uint64_t syncs = 0;            // fdatasync calls for record groups
  uint64_t checkpoints_written = 0;
  uint64_t checkpoint_failures = 0;  // the audit key could not sign
  uint64_t write_failures = 0;
  uint64_t appends_refused = 0;  // records completed with an error
  uint64_t segments_opened = 0;
};

class AuditLog {
 public:
  struct Options {
    std::string dir;
    uint64_t max_segment_bytes = 64ull << 20;  // start a new segment past this size
    std::chrono::seconds max_segment_age{24 * 3600};
    // Records in one group: 0, no bound; 1, one sync per record (for comparison). One
    // AppendAll's records are never split, so its group may hold more.
    size_t max_group_records = 0;
    bool sync = true;  // false: never fdatasync (only for measuring its cost)
    // Under load, the shortest time from one sync's start to the next; 0: sync as soon as
    // the previous one ends. Never delays a record reaching an idle log. An fdatasync costs
    // 100-170 us of CPU here whatever it carries, and its wake-ups preempt the caller's
    // threads: at 5 ms a loaded signetd spends about 3 % of a core on syncs, and a
    // credential waits at most 5 ms more for its record.
    std::chrono::microseconds group_window{5000};

    std::shared_ptr<SigningKey> checkpoint_key;            // nullptr: no checkpoints
    std::string checkpoint_key_id;                         // written as the checkpoint record's key
    uint64_t checkpoint_every_records = 10000;             // 0: not by count
    std::chrono::milliseconds checkpoint_interval{60000};  // 0: not by time

    std::chrono::milliseconds retry_interval{1000};  // while failed
    WallClock clock;                                 // default: system_clock::now
  };

  // What Open found and repaired.
  struct OpenReport {
    bool cut_torn_line = false;
    std::string cut_segment;
    uint64_t cut_offset = 0;
    uint64_t cut_bytes = 0;
    std::string cut_digest;  // SHA-256 (hex) of the bytes cut off
  };

  // Opens or creates the log in options.dir and continues its chain. Fails when the
  // directory cannot be used or the last complete record is damaged (run Verify), and
  // with kFailedPrecondition while another process has the log open (one writer per
  // directory: `<dir>/writer.lock` is held while the log is open).
  static StatusOr<std::unique_ptr<AuditLog>> Open(Options options);

  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `record` (seq, time, prev and hash are assigned by the log).
  void Append(AuditRecord record, AppendCallback done);

  // Queues `records` to be written in order within one group, and calls `done` once: with
  // the last record's sequence number when all of them are durable, or with the reason
  // none was acknowledged. One lock and one callback for a whole response's records. An
  // empty `records` completes at once with 0.
  void AppendAll(std::vector<AuditRecord> records, AppendCallback done);

  // Appends and waits until the record is durable. Not for network threads.
  StatusOr<uint64_t> AppendAndWait(AuditRecord record);

  // Writes a checkpoint over the current head now and returns its sequence number.
  // kFailedPrecondition without a checkpoint key.
  StatusOr<uint64_t> CheckpointNow();

  AuditHealth health() const;
  const OpenReport& open_report() const { return open_report_; }

 private:
  // One Append (one record), one AppendAll (its records) or one CheckpointNow (none).
  struct Pending {
    std::vector<AuditRecord> records;
    AppendCallback done;
    bool checkpoint_request = false;
  };

  explicit AuditLog(Options options);
  Status Recover(const std::vector<SegmentInfo>& segments);
  void Enqueue(Pending pending);
  std::string SegmentPath(uint32_t index) const;

  void WriterLoop();
  bool GroupFull() const;  // with mu_ held
  void WriteGroup(std::vector<Pending>& group);
  Status WriteRecords(std::vector<AuditRecord*>& records);
  Status RotateIfDue();
  StatusOr<uint64_t> MaybeCheckpoint(bool forced);
  void EnterFailed(const Status& error, std::vector<Pending>& group);
  void TryResume();
  std::string Now() const;

  const Options options_;
  OpenReport open_report_;

  // Shared with Append and health(); guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Pending> queue_;
  size_t queued_records_ = 0;      // records in queue_
  bool writer_idle_ = false;       // the writer waits for a first record
  bool writer_gathering_ = false;  // the writer waits out the group window
  bool stopping_ = false;
  Status failed_;  // not OK while writing fails
  AuditHealth health_;

  // Owned by the writer thread (and by Open before the thread starts).
  SegmentFile file_;
  uint32_t segment_index_ = 0;
  std::chrono::steady_clock::time_point segment_opened_;
  std::chrono::steady_clock::time_point last_sync_start_;
  std::vector<Pending> spare_;  // the last group's storage, reused for the next group
  uint64_t durable_size_ = 0;   // file length after the last successful sync
  uint64_t head_seq_ = 0;
  std::string head_hash_;
  std::string head_time_;
  uint64_t since_checkpoint_ = 0;  // records after the last checkpoint
  std::chrono::steady_clock::time_point last_checkpoint_;
  std::chrono::steady_clock::time_point failed_at_;
  std::string failed_since_;  // wall time of the first failure of the current outage

  std::optional<FileLock> writer_lock_;  // one writing process per directory
  std::thread writer_;                   // last: started once everything above is ready
};

// Formats a time point as the log writes it: 2026-12-03T17:28:00.123456Z.
std::string FormatTime(std::chrono::system_clock::time_point t);

}  // namespace signet::audit
