// signet-bench: measures signetd (load, idle) and the reference loops it is compared with
// (limit). tools/bench.sh runs the whole suite; docs/benchmarks.md explains the figures.
//
//   signet-bench load  --endpoint 127.0.0.1:7443 --cert c.pem --key c.key --ca ca.pem
//                      [--connections 4] [--in-flight 32] [--batch 1] [--mix jwt,token,x509,digest]
//                      [--seconds 3 | --count N] [--rate R] [--server-pid PID] [--json]
//   signet-bench idle  (client flags) --connections 250 --hold 3 [--server-pid PID]
//   signet-bench limit jwt|digest|x509|csign [--seconds 2]
//                      [--module SO --key-uri pkcs11:... --pin-file F]   (csign only)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "backends/pkcs11/raw_sign_loop.h"
#include "tools/bench/limits.h"
#include "tools/bench/load.h"

namespace signet::bench {
namespace {

void PrintLoad(const LoadOptions& o, const LoadResult& r, bool json) {
  std::string mix;
  for (Op op : o.mix) {
    mix += (mix.empty() ? "" : ",") + OpName(op);
  }
  double cpu_per_item_us =
      r.server_cpu_seconds >= 0 && r.items > 0 ? r.server_cpu_seconds * 1e6 / r.items : -1;
  if (json) {
    std::printf(
        "{\"mode\":\"load\",\"mix\":\"%s\",\"connections\":%zu,\"in_flight\":%zu,\"batch\":%zu,"
        "\"rate\":%.0f,\"seconds\":%.3f,\"requests\":%lu,\"items\":%lu,\"item_errors\":%lu,"
        "\"request_errors\":%lu,\"items_per_second\":%.1f,\"p50_us\":%.0f,\"p99_us\":%.0f,"
        "\"p999_us\":%.0f,\"max_us\":%.0f,\"server_cpu_seconds\":%.3f,"
        "\"server_cpu_us_per_item\":%.1f,\"server_rss_mib\":%.1f}\n",
        mix.c_str(), o.connections, o.in_flight, o.batch, o.rate, r.seconds, r.requests, r.items,
        r.item_errors, r.request_errors, r.items_per_second(), r.p50_us, r.p99_us, r.p999_us,
        r.max_us, r.server_cpu_seconds, cpu_per_item_us, r.server_rss_mib);
    return;
  }
  std::printf("mix %s, %zu connection(s) x %zu in flight, batch %zu%s\n", mix.c_str(),
              o.connections, o.in_flight, o.batch,
              o.rate > 0 ? (", open loop at " + std::to_string(int(o.rate)) + " req/s").c_str()
                         : ", closed loop");
  std::printf("  %-22s %12.1f\n", "signatures/s", r.items_per_second());
  std::printf("  %-22s %12lu / %lu items in %.2f s\n", "requests / items", r.requests, r.items,
              r.seconds);
  std::printf("  %-22s %12lu items, %lu requests\n", "errors", r.item_errors, r.request_errors);
  std::printf("  %-22s %9.0f us  p99 %.0f us  p99.9 %.0f us  max %.0f us\n", "latency p50",
              r.p50_us, r.p99_us, r.p999_us, r.max_us);
  if (r.server_cpu_seconds >= 0) {
    std::printf("  %-22s %12.3f s (%.1f us per item), RSS %.1f MiB\n", "server CPU",
                r.server_cpu_seconds, cpu_per_item_us, r.server_rss_mib);
  }
  if (!r.first_error.empty()) {
    std::printf("  %-22s %s\n", "first error", r.first_error.c_str());
  }
}

int Main(int argc, char** argv) {
  CLI::App app{"signet-bench: load generator and reference loops for signetd"};
  app.require_subcommand(1);
  LoadOptions options;
  std::string mix = "jwt";
  bool json = false;
  double hold = 3;
  double seconds = 2;
  std::string which, module, key_uri, pin_file;

  auto client_flags = [&](CLI::App* sub) {
    sub->add_option("--endpoint", options.client.endpoints, "host:port or unix:/path")->required();
    sub->add_option("--cert", options.client.tls.cert_file, "client certificate (PEM)")->required();
    sub->add_option("--key", options.client.tls.key_file, "client private key (PEM)")->required();
    sub->add_option("--ca", options.client.tls.ca_file, "CA the server must chain to")->required();
    sub->add_option("--server-name", options.client.server_name, "SNI and expected DNS name");
    sub->add_option("--connections", options.connections, "connections");
    sub->add_option("--server-pid", options.server_pid, "signetd's pid: CPU time and RSS");
    sub->add_flag("--json", json, "one JSON object instead of the table");
  };
  CLI::App* load = app.add_subcommand("load", "drive signetd and measure");
  client_flags(load);
  load->add_option("--in-flight", options.in_flight, "requests outstanding per connection");
  load->add_option("--batch", options.batch, "items per request");
  load->add_option("--mix", mix, "operations cycled: jwt, token, x509, digest");
  load->add_option("--seconds", options.seconds, "measured duration");
  load->add_option("--count", options.count, "stop after this many requests");
  load->add_option("--rate", options.rate, "open loop: requests per second in total");
  load->add_option("--warmup", options.warmup, "seconds run before measuring");
  load->add_option("--raw-key", options.raw_key, "key name for digest signing");
  load->add_option("--csr-pool", options.csr_pool, "distinct CSRs made before the run");
  CLI::App* idle = app.add_subcommand("idle", "hold idle connections; report signetd's RSS");
  client_flags(idle);
  idle->add_option("--hold", hold, "seconds to hold the connections");
  CLI::App* limit = app.add_subcommand("limit", "in-process reference loop on this thread");
  limit->add_option("which", which, "jwt, digest, x509 or csign")->required();
  limit->add_option("--seconds", seconds, "duration");
  limit->add_option("--module", module, "csign: PKCS#11 module");
  limit->add_option("--key-uri", key_uri, "csign: pkcs11: URI of the private key");
  limit->add_option("--pin-file", pin_file, "csign: file holding the user PIN (0600)");
  limit->add_flag("--json", json, "one JSON object instead of text");
  CLI11_PARSE(app, argc, argv);
  options.client.request_timeout = std::chrono::milliseconds(60000);

  if (load->parsed()) {
    auto parsed_mix = ParseMix(mix);
    if (!parsed_mix.ok()) {
      std::fprintf(stderr, "signet-bench: %s\n", parsed_mix.status().ToString().c_str());
      return 2;
    }
    options.mix = *parsed_mix;
    options.client.max_attempts = 1;  // a benchmark counts failures; it does not hide them
    StatusOr<LoadResult> result = RunLoad(options);
    if (!result.ok()) {
      std::fprintf(stderr, "signet-bench: %s\n", result.status().ToString().c_str());
      return 1;
    }
    PrintLoad(options, *result, json);
    return result->requests > 0 && result->item_errors == 0 ? 0 : 1;
  }
  if (idle->parsed()) {
    IdleResult result = RunIdle(options, hold);
    if (json) {
      std::printf(
          "{\"mode\":\"idle\",\"connected\":%zu,\"server_rss_before_mib\":%.1f,"
          "\"server_rss_mib\":%.1f}\n",
          result.connected, result.server_rss_before_mib, result.server_rss_mib);
    } else {
      std::printf("%zu idle connections; signetd RSS %.1f MiB (%.1f MiB before)\n",
                  result.connected, result.server_rss_mib, result.server_rss_before_mib);
    }
    if (!result.first_error.empty()) {
      std::fprintf(stderr, "signet-bench: %s\n", result.first_error.c_str());
    }
    return result.connected == options.connections ? 0 : 1;
  }

  StatusOr<double> rate = Status(
      Code::kInvalidArgument, "unknown limit '" + which + "'; expected jwt, digest, x509, csign");
  if (which == "jwt") {
    rate = JwtLoopRate(seconds);
  } else if (which == "digest") {
    rate = DigestLoopRate(seconds);
  } else if (which == "x509") {
    rate = X509LoopRate(seconds);
  } else if (which == "csign") {
    StatusOr<Secret> pin = ReadSecret(SecretSource{"", pin_file});
    rate = pin.ok() ? pkcs11::RawSignLoopRate(module, key_uri, *pin, seconds) : pin.status();
  }
  if (!rate.ok()) {
    std::fprintf(stderr, "signet-bench: limit %s: %s\n", which.c_str(),
                 rate.status().ToString().c_str());
    return 1;
  }
  if (json) {
    std::printf("{\"mode\":\"limit\",\"which\":\"%s\",\"per_second\":%.1f}\n", which.c_str(),
                *rate);
  } else {
    std::printf("limit %s: %.1f /s\n", which.c_str(), *rate);
  }
  return 0;
}

}  // namespace
}  // namespace signet::bench

int main(int argc, char** argv) {
  return signet::bench::Main(argc, argv);
}
