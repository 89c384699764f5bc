#include "tools/signetd/audit_watch.h"

#include "tools/signetd/log.h"

namespace signet {

AuditWatch::AuditWatch(const audit::AuditLog& log, ipc::MetricsRegistry& metrics,
                       std::chrono::milliseconds poll_interval)
    : log_(log), poll_interval_(poll_interval) {
  metrics.Describe("signet_audit_writable", "1 while the audit log accepts records, else 0");
  metrics.Describe("signet_audit_head_seq", "sequence number of the last durable record");
  metrics.Describe("signet_audit_write_failures", "writes or syncs of the audit log that failed");
  metrics.Describe("signet_audit_appends_refused", "records refused while the log could not write");
  metrics.AddCollector([&log](ipc::MetricsRegistry& registry) {
    audit::AuditHealth health = log.health();
    registry.SetGauge("signet_audit_writable", {}, health.writable ? 1 : 0);
    registry.SetGauge("signet_audit_head_seq", {}, static_cast<double>(health.head_seq));
    registry.SetGauge("signet_audit_write_failures", {},
                      static_cast<double>(health.write_failures));
    registry.SetGauge("signet_audit_appends_refused", {},
                      static_cast<double>(health.appends_refused));
  });
  thread_ = std::thread([this] { Poll(); });
}

AuditWatch::~AuditWatch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

Status AuditWatch::Health() const {
  audit::AuditHealth health = log_.health();
  if (health.writable) {
    return OkStatus();
  }
  return Status(Code::kUnavailable, "audit log cannot write: " + health.error.message());
}

void AuditWatch::Poll() {
  bool writable = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_cv_.wait_for(lock, poll_interval_, [this] { return stopping_; })) {
    audit::AuditHealth health = log_.health();
    if (health.writable == writable) {
      continue;
    }

    writable = health.writable;
    if (writable) {
      logf::LogEvent(logf::Level::kInfo, logf::kAuditResumed,
                     {{logf::kCount, std::to_string(health.appends_refused)}});
    } else {
      logf::LogEvent(logf::Level::kError, logf::kAuditFailed,
                     {{logf::kError, health.error.ToString()}});
    }
  }
}

}  // namespace signet
