// MetricsRegistry: counters, gauges and latency histograms with labels, rendered
// in the Prometheus text exposition format (version 0.0.4) for /metrics.
//
// The IPC server reports requests, errors and latency by operation and the
// number of requests in flight here; other layers may add their own families.
// Names follow Prometheus conventions (`signet_ipc_requests_total`); a family's
// type is fixed by its first use.
//
// A hot path finds its series once, as a Counter, Gauge or Histogram handle, and
// updates it without a lock or an allocation; AddCounter and the other by-name
// updates find the series every time (render its labels, look it up under the lock)
// and suit code that runs rarely.
//
// Thread safety: every method, and every handle, may be used from any thread. One
// mutex guards the families and their series; series are never removed, so a handle
// stays valid for the registry's lifetime, and values are atomics. A histogram read
// while another thread observes may lag by that observation in one of its fields.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signet::ipc {

class MetricsRegistry {
  struct Series;

 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Handles to one series. A default-made handle belongs to no registry, and its updates
  // do nothing: code whose registry is optional can update unconditionally.
  class Counter {
   public:
    Counter() = default;
    void Add(double delta = 1) const;

   private:
    friend class MetricsRegistry;
    explicit Counter(Series* series) : series_(series) {}
    Series* series_ = nullptr;
  };
  class Gauge {
   public:
    Gauge() = default;
    void Add(double delta) const;
    void Set(double value) const;

   private:
    friend class MetricsRegistry;
    explicit Gauge(Series* series) : series_(series) {}
    Series* series_ = nullptr;
  };
  class Histogram {
   public:
    Histogram() = default;
    void Observe(double seconds) const;

   private:
    friend class MetricsRegistry;
    explicit Histogram(Series* series) : series_(series) {}
    Series* series_ = nullptr;
  };

  // The series of `name` with `labels`, made (empty) if it does not exist yet.
  Counter CounterFor(std::string_view name, const Labels& labels);
  Gauge GaugeFor(std::string_view name, const Labels& labels);
  Histogram HistogramFor(std::string_view name, const Labels& labels);

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
    std::atomic<double> value = 0;  // counter, gauge; the sum for a histogram
    // Histogram: the count of each bucket alone; cumulative counts are summed when rendering.
    std::unique_ptr<std::atomic<uint64_t>[]> buckets;
    std::atomic<uint64_t> count = 0;
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
