// EventHook: how ipc/ reports what a service would log, without logging itself.
//
// The servers report connection-level events (a refused handshake, a malformed
// frame that closed a connection, a TLS reload) through this hook; signetd turns
// them into structured log lines. The hook runs on a network thread: keep it short
// and never block in it. It may be empty.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace signet::ipc {

// Stable event kinds, usable as a log field value.
inline constexpr std::string_view kEventHandshakeFailed = "handshake_failed";
inline constexpr std::string_view kEventConnectionLimit = "connection_limit";
inline constexpr std::string_view kEventMalformedFrame = "malformed_frame";
inline constexpr std::string_view kEventConnectionClosed = "connection_closed";
inline constexpr std::string_view kEventTlsReloaded = "tls_reloaded";
inline constexpr std::string_view kEventTlsReloadFailed = "tls_reload_failed";
inline constexpr std::string_view kEventListenerError = "listener_error";

struct Event {
  enum class Severity { kInfo, kWarning };
  Severity severity = Severity::kInfo;
  std::string_view kind;       // one of the kEvent* constants
  uint64_t connection_id = 0;  // 0 when not about one connection
  std::string caller;          // the SPIFFE ID, when known
  std::string message;         // why, naming the offending value
};

using EventHook = std::function<void(const Event&)>;

}  // namespace signet::ipc
