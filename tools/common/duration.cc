#include "tools/common/duration.h"

#include <cstdint>

namespace signet {
namespace {

constexpr int64_t kMaxSeconds = int64_t{10} * 366 * 24 * 3600;

Status DurationError(std::string_view text, std::string_view what, std::string_view why) {
  return Status(Code::kInvalidArgument,
                std::string(what) + " '" + std::string(text) + "': " + std::string(why) +
                    "; write a whole number followed by h, m or s, e.g. 90s, 5m, 1h or 1h30m");
}

int UnitRank(char unit) {
  switch (unit) {
    case 'h':
      return 0;
    case 'm':
      return 1;
    case 's':
      return 2;
    default:
      return -1;
  }
}

int64_t UnitSeconds(char unit) {
  return unit == 'h' ? 3600 : unit == 'm' ? 60 : 1;
}

}  // namespace

StatusOr<std::chrono::seconds> ParseDuration(std::string_view text, std::string_view what) {
  if (text.empty()) {
    return DurationError(text, what, "empty duration");
  }

  int64_t total = 0;
  int last_rank = -1;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxSeconds) {
        return DurationError(text, what, "longer than 10 years");
      }
      ++i;
    }
    if (i == start) {
      return DurationError(text, what, "expected a digit at '" + std::string(text.substr(i)) + "'");
    }
    if (i == text.size()) {
      return DurationError(text, what, "the number has no unit");
    }

    char unit = text[i];
    int rank = UnitRank(unit);
    if (rank < 0) {
      return DurationError(text, what, "unknown unit '" + std::string(1, unit) + "'");
    }
    if (rank <= last_rank) {
      return DurationError(text, what, "units must appear once each, in the order h, m, s");
    }
    last_rank = rank;
    ++i;

    total += number * UnitSeconds(unit);
    if (total > kMaxSeconds) {
      return DurationError(text, what, "longer than 10 years");
    }
  }

  if (total == 0) {
    return DurationError(text, what, "a duration must be longer than zero");
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds value) {
  int64_t s = value.count();
  if (s <= 0) {
    return "0s";
  }
  std::string out;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0) {
    out += std::to_string(s) + "s";
  }
  return out;
}

}  // namespace signet
