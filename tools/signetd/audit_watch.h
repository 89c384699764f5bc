// AuditWatch: makes the audit log's state visible in health, metrics and the log.
//
// When the audit log cannot write (disk full, read-only file system) it refuses every
// record, and signetd withholds the credentials it cannot record. AuditWatch says so:
// Health() turns NOT_SERVING with the log's error, the metrics carry gauges of the
// log's state, and a background thread logs one `audit_failed` line when writing stops
// and one `audit_resumed` line when it works again (never one per refused request).
//
// Lifetime: the AuditLog must outlive the watch; the destructor joins the thread.
//
// Thread safety: Health() and the metrics collector may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ipc/metrics.h"
#include "signer/audit/log.h"
#include "signer/status.h"

namespace signet {

class AuditWatch {
 public:
  AuditWatch(const audit::AuditLog& log, ipc::MetricsRegistry& metrics,
             std::chrono::milliseconds poll_interval = std::chrono::milliseconds(500));
  ~AuditWatch();
  AuditWatch(const AuditWatch&) = delete;
  AuditWatch& operator=(const AuditWatch&) = delete;

  // OK while the log writes; kUnavailable naming the log's error otherwise.
  Status Health() const;

 private:
  void Poll();

  const audit::AuditLog& log_;
  const std::chrono::milliseconds poll_interval_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace signet
