// MetricsRegistry: counters, gauges and latency histograms with labels, rendered
// in the Prometheus text exposition format (version 0.0.4) for /metrics.
//
// The IPC server reports requests, errors and latency by operation and the
// number of requests in flight here; other layers may add their own families.
// Names follow Prometheus conventions (`signet_ipc_requests_total`); a family's
// type is fixed by its first use.
//
// Thread safety: every method may be called from any thread. One mutex guards
// the registry. Not yet: per-thread shards; one lock per update is fine at the
// request rates one process serves, and shows up in profiles first if not.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signet::ipc {

class MetricsRegistry {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Sets the HELP text of a family; optional.
  void Describe(std::string_view name, std::string_view help);

  void AddCounter(std::string_view name, const Labels& labels, double delta = 1);
  void AddGauge(std::string_view name, const Labels& labels, double delta);
  void SetGauge(std::string_view name, const Labels& labels, double value);

  // Records one observation (seconds) in a histogram with buckets from 100 µs to 10 s.
  void Observe(std::string_view name, const Labels& labels, double seconds);

  // The current value of a counter or gauge series; 0 when it does not exist.
  double Value(std::string_view name, const Labels& labels) const;

  // Adds a function that refreshes values read from elsewhere (a gauge of the audit log's
  // state, say); every collector runs, without the registry's lock held, before each render.
  void AddCollector(std::function<void(MetricsRegistry&)> collector);

  // Runs the collectors, then renders every family, in name order, as Prometheus text.
  std::string RenderPrometheus();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;               // counter, gauge; the sum for a histogram
    std::vector<uint64_t> buckets;  // histogram: cumulative counts are computed when rendering
    uint64_t count = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<std::string, Series> series;  // by rendered label set, e.g. {op="health"}
  };

  Series& SeriesFor(std::string_view name, Type type, const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::function<void(MetricsRegistry&)>> collectors_;
};

}  // namespace signet::ipc
