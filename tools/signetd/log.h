// Structured log lines for signetd: one line per event that matters, as key=value fields.
//
//   2026-12-03T17:40:01.204Z level=info event=listen transport=tcp address=127.0.0.1:7443
//
// Field names are the constants below, so a log search never depends on a spelling that
// drifted. Values are quoted when they hold spaces, quotes or '=' and never contain secrets:
// callers pass identities, key ids, addresses and Status messages (which by contract hold no
// PIN, key or token), never a Secret or credential bytes.
//
// Only the service layer (tools/) logs; libraries return Status values instead.
// Thread safety: LogEvent may be called from any thread (spdlog's logger is thread-safe).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "signer/status.h"

namespace signet::logf {

// Field names.
inline constexpr std::string_view kEvent = "event";
inline constexpr std::string_view kConfig = "config";
inline constexpr std::string_view kTransport = "transport";
inline constexpr std::string_view kAddress = "address";
inline constexpr std::string_view kBackend = "backend";
inline constexpr std::string_view kBackendType = "backend_type";
inline constexpr std::string_view kKeyId = "kid";
inline constexpr std::string_view kPurpose = "purpose";
inline constexpr std::string_view kAlgorithm = "alg";
inline constexpr std::string_view kCaller = "caller";
inline constexpr std::string_view kOperation = "op";
inline constexpr std::string_view kSubject = "sub";
inline constexpr std::string_view kCode = "code";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kReason = "reason";
inline constexpr std::string_view kSignal = "signal";
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kCount = "count";
inline constexpr std::string_view kPath = "path";

// Event names.
inline constexpr std::string_view kStart = "start";
inline constexpr std::string_view kStop = "stop";
inline constexpr std::string_view kConfigLoaded = "config_loaded";
inline constexpr std::string_view kConfigError = "config_error";
inline constexpr std::string_view kConfigReload = "config_reload";
inline constexpr std::string_view kBackendReady = "backend_ready";
inline constexpr std::string_view kBackendError = "backend_error";
inline constexpr std::string_view kKeyLoaded = "key_loaded";
inline constexpr std::string_view kKeyChange = "key_change";  // a key, deny-list or admin change
inline constexpr std::string_view kAuditOpened = "audit_opened";
inline constexpr std::string_view kAuditFailed = "audit_failed";
inline constexpr std::string_view kAuditResumed = "audit_resumed";
inline constexpr std::string_view kListen = "listen";
inline constexpr std::string_view kCallerRefused = "caller_refused";
inline constexpr std::string_view kRequestFailed = "request_failed";
inline constexpr std::string_view kSignalReceived = "signal";

enum class Level { kDebug, kInfo, kWarn, kError };

struct Field {
  std::string_view name;
  std::string value;
};

// Sets up the process-wide logger: stderr, UTC timestamps, the given minimum level
// ("debug", "info", "warn", "error").
void InitLogging(std::string_view level);

// Changes the minimum level after InitLogging.
void SetLogLevel(std::string_view level);

// Writes one line: event=<event> followed by the fields in order.
void LogEvent(Level level, std::string_view event, std::initializer_list<Field> fields = {});

// A value as it appears after '=': bare when plain, else double-quoted with \" and \\ escaped.
std::string FormatValue(std::string_view value);

}  // namespace signet::logf
