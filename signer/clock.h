// Clock: where signet reads the time, so tests can inject it.
//
// Every time that ends up in a credential (iat, exp, notBefore, notAfter), every
// grant expiry check and every bundle sequence comes from a Clock the owner
// passes in. SystemClock reads the wall clock; FakeClock is set by tests.
//
// Thread safety: Now() may be called from any thread; FakeClock's setters too.
#pragma once

#include <atomic>
#include <chrono>

namespace signet {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that stands still until a test moves it.
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}

  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void Advance(TimePoint::duration d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<TimePoint::rep> now_;
};

// Whole seconds since the Unix epoch, as JWT NumericDate and X.509 times use them.
inline int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count();
}

inline TimePoint FromUnixSeconds(int64_t s) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(Seconds(s)));
}

}  // namespace signet
