#include "ipc/metrics.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace signet::ipc {
namespace {

constexpr std::array kBucketBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="1",b="2"}`, or "" for no labels; `extra` is appended inside the braces.
std::string RenderLabels(const MetricsRegistry::Labels& labels, std::string_view extra = {}) {
  if (labels.empty() && extra.empty()) {
    return "";
  }
  std::string out = "{";
  for (const auto& [key, value] : labels) {
    if (out.size() > 1) {
      out += ',';
    }
    out += key + "=\"" + EscapeLabelValue(value) + "\"";
  }
  if (!extra.empty()) {
    if (out.size() > 1) {
      out += ',';
    }
    out += extra;
  }
  return out + "}";
}

// Adds `extra` to a rendered label set.
std::string WithLabel(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) {
    return "{" + extra + "}";
  }
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

std::string FormatNumber(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.10g", value);
  return text;
}

}  // namespace

void MetricsRegistry::Describe(std::string_view name, std::string_view help) {
  std::lock_guard lock(mu_);
  families_[std::string(name)].help = help;
}

MetricsRegistry::Series& MetricsRegistry::SeriesFor(std::string_view name, Type type,
                                                    const Labels& labels) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, "", {}}).first;
  } else if (it->second.series.empty()) {
    it->second.type = type;
  }
  Series& series = it->second.series[RenderLabels(labels)];
  if (type == Type::kHistogram && series.buckets == nullptr) {
    series.buckets = std::make_unique<std::atomic<uint64_t>[]>(kBucketBounds.size());
  }
  return series;
}

MetricsRegistry::Counter MetricsRegistry::CounterFor(std::string_view name, const Labels& labels) {
  std::lock_guard lock(mu_);
  return Counter(&SeriesFor(name, Type::kCounter, labels));
}

MetricsRegistry::Gauge MetricsRegistry::GaugeFor(std::string_view name, const Labels& labels) {
  std::lock_guard lock(mu_);
  return Gauge(&SeriesFor(name, Type::kGauge, labels));
}

MetricsRegistry::Histogram MetricsRegistry::HistogramFor(std::string_view name,
                                                         const Labels& labels) {
  std::lock_guard lock(mu_);
  return Histogram(&SeriesFor(name, Type::kHistogram, labels));
}

void MetricsRegistry::Counter::Add(double delta) const {
  if (series_ != nullptr) {
    series_->value.fetch_add(delta, std::memory_order_relaxed);
  }
}

void MetricsRegistry::Gauge::Add(double delta) const {
  if (series_ != nullptr) {
    series_->value.fetch_add(delta, std::memory_order_relaxed);
  }
}

void MetricsRegistry::Gauge::Set(double value) const {
  if (series_ != nullptr) {
    series_->value.store(value, std::memory_order_relaxed);
  }
}

void MetricsRegistry::Histogram::Observe(double seconds) const {
  if (series_ == nullptr) {
    return;
  }
  series_->value.fetch_add(seconds, std::memory_order_relaxed);
  series_->count.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < kBucketBounds.size(); ++i) {
    if (seconds <= kBucketBounds[i]) {
      series_->buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
}

void MetricsRegistry::AddCounter(std::string_view name, const Labels& labels, double delta) {
  CounterFor(name, labels).Add(delta);
}

void MetricsRegistry::AddGauge(std::string_view name, const Labels& labels, double delta) {
  GaugeFor(name, labels).Add(delta);
}

void MetricsRegistry::SetGauge(std::string_view name, const Labels& labels, double value) {
  GaugeFor(name, labels).Set(value);
}

void MetricsRegistry::Observe(std::string_view name, const Labels& labels, double seconds) {
  HistogramFor(name, labels).Observe(seconds);
}

double MetricsRegistry::Value(std::string_view name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto family = families_.find(name);
  if (family == families_.end()) {
    return 0;
  }
  auto series = family->second.series.find(RenderLabels(labels));
  return series == family->second.series.end()
             ? 0
             : series->second.value.load(std::memory_order_relaxed);
}

void MetricsRegistry::AddCollector(std::function<void(MetricsRegistry&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::RenderPrometheus() {
  std::vector<std::function<void(MetricsRegistry&)>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) {
    collect(*this);
  }

  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (family.series.empty()) {
      continue;
    }
    if (!family.help.empty()) {
      out += "# HELP " + name + " " + family.help + "\n";
    }
    const char* type = family.type == Type::kCounter ? "counter"
                       : family.type == Type::kGauge ? "gauge"
                                                     : "histogram";
    out += "# TYPE " + name + " " + type + "\n";

    for (const auto& [labels, series] : family.series) {
      double value = series.value.load(std::memory_order_relaxed);
      if (family.type != Type::kHistogram) {
        out += name + labels + " " + FormatNumber(value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBucketBounds.size(); ++i) {
        cumulative += series.buckets[i].load(std::memory_order_relaxed);
        out += name + "_bucket" +
               WithLabel(labels, "le=\"" + FormatNumber(kBucketBounds[i]) + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      // Read after the buckets, and never below them: an observation made meanwhile may
      // have reached a bucket before the count.
      uint64_t count = std::max(cumulative, series.count.load(std::memory_order_relaxed));
      out +=
          name + "_bucket" + WithLabel(labels, "le=\"+Inf\"") + " " + std::to_string(count) + "\n";
      out += name + "_sum" + labels + " " + FormatNumber(value) + "\n";
      out += name + "_count" + labels + " " + std::to_string(count) + "\n";
    }
  }
  return out;
}

}  // namespace signet::ipc
