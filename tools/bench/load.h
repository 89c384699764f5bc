// The load generator of signet-bench: drives signetd through the IPC client library and
// measures what it gets back.
//
// Each connection is one ipc::Client. Closed loop (the default): every connection keeps
// `in_flight` requests outstanding and sends the next when one is answered. Open loop
// (`rate` > 0): requests leave at a fixed total rate, whatever the answers do, capped at
// `in_flight` per connection, so latency is measured at a chosen load.
//
// Thread safety: RunLoad and RunIdle are blocking calls for one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ipc/client.h"
#include "signer/status.h"

namespace signet::bench {

enum class Op { kJwtSvid, kAccessToken, kX509Svid, kDigest };

struct LoadOptions {
  ipc::ClientOptions client;
  size_t connections = 1;
  size_t in_flight = 1;                  // requests outstanding per connection
  size_t batch = 1;                      // items per request
  std::vector<Op> mix = {Op::kJwtSvid};  // requests cycle through these
  double seconds = 3;
  uint64_t count = 0;   // when > 0: stop after this many requests instead
  double rate = 0;      // requests per second in total; 0: closed loop
  double warmup = 0.3;  // seconds run before measuring
  std::string raw_key = "raw-es256-1";
  std::string trust_domain = "example.org";
  size_t csr_pool = 64;
  int server_pid = 0;  // when > 0: its CPU time and memory are read from /proc
};

struct LoadResult {
  double seconds = 0;
  uint64_t requests = 0;
  uint64_t items = 0;           // signatures asked for
  uint64_t item_errors = 0;     // items answered with an error
  uint64_t request_errors = 0;  // requests failed as a whole
  std::string first_error;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double server_cpu_seconds = -1;  // -1: no pid given
  double server_rss_mib = -1;
  double items_per_second() const { return seconds > 0 ? (items - item_errors) / seconds : 0; }
};

StatusOr<std::vector<Op>> ParseMix(const std::string& text);
std::string OpName(Op op);

StatusOr<LoadResult> RunLoad(const LoadOptions& options);

// Opens `connections` connections, proves each with a health request, holds them idle for
// `hold_seconds`, and returns the server's resident memory (MiB) read at the end.
struct IdleResult {
  size_t connected = 0;
  double server_rss_mib = -1;
  double server_rss_before_mib = -1;
  std::string first_error;
};
IdleResult RunIdle(const LoadOptions& options, double hold_seconds);

// Reads /proc/<pid>: CPU seconds used (user + system) and resident memory in MiB.
double ProcessCpuSeconds(int pid);
double ProcessRssMib(int pid);

}  // namespace signet::bench
