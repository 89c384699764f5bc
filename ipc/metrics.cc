#include "ipc/metrics.h"

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
  if (type == Type::kHistogram && series.buckets.empty()) {
    series.buckets.assign(kBucketBounds.size(), 0);
  }
  return series;
}

void MetricsRegistry::AddCounter(std::string_view name, const Labels& labels, double delta) {
  std::lock_guard lock(mu_);
  SeriesFor(name, Type::kCounter, labels).value += delta;
}

void MetricsRegistry::AddGauge(std::string_view name, const Labels& labels, double delta) {
  std::lock_guard lock(mu_);
  SeriesFor(name, Type::kGauge, labels).value += delta;
}

void MetricsRegistry::SetGauge(std::string_view name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  SeriesFor(name, Type::kGauge, labels).value = value;
}

void MetricsRegistry::Observe(std::string_view name, const Labels& labels, double seconds) {
  std::lock_guard lock(mu_);
  Series& series = SeriesFor(name, Type::kHistogram, labels);
  series.value += seconds;
  series.count += 1;
  for (size_t i = 0; i < kBucketBounds.size(); ++i) {
    if (seconds <= kBucketBounds[i]) {
      series.buckets[i] += 1;
      break;
    }
  }
}

double MetricsRegistry::Value(std::string_view name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto family = families_.find(name);
  if (family == families_.end()) {
    return 0;
  }
  auto series = family->second.series.find(RenderLabels(labels));
  return series == family->second.series.end() ? 0 : series->second.value;
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
      if (family.type != Type::kHistogram) {
        out += name + labels + " " + FormatNumber(series.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBucketBounds.size(); ++i) {
        cumulative += series.buckets[i];
        out += name + "_bucket" +
               WithLabel(labels, "le=\"" + FormatNumber(kBucketBounds[i]) + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + WithLabel(labels, "le=\"+Inf\"") + " " +
             std::to_string(series.count) + "\n";
      out += name + "_sum" + labels + " " + FormatNumber(series.value) + "\n";
      out += name + "_count" + labels + " " + std::to_string(series.count) + "\n";
    }
  }
  return out;
}

}  // namespace signet::ipc
