#include "backends/slow_test/slow_test_backend.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "backends/software/software_backend.h"

namespace signet {

using Clock = std::chrono::steady_clock;

// The simulated device: `sessions` slots, each busy for `latency` per signature.
class SlowTestBackend::Device {
 public:
  Device(std::chrono::microseconds latency, size_t sessions)
      : latency_(latency), sessions_(sessions), thread_([this] { Run(); }) {}

  ~Device() { Shutdown(); }

  // Holds `result` until a session has been busy with it for the latency, then runs `done`.
  void Submit(StatusOr<Bytes> result, SignCallback done) {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_) {
      lock.unlock();
      done(std::move(result));
      return;
    }
    Held held{Clock::time_point(), std::move(result), std::move(done)};
    if (running_.size() < sessions_) {
      held.deadline = Clock::now() + latency_;
      running_.push_back(std::move(held));
      cv_.notify_one();
    } else {
      waiting_.push_back(std::move(held));
    }
  }

  // Delivers everything held at once and stops the timer thread. Idempotent.
  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  struct Held {
    Clock::time_point deadline;
    StatusOr<Bytes> result;
    SignCallback done;
  };

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (stopping_) {
        stopped_ = true;
        std::deque<Held> rest = std::move(running_);
        for (Held& held : waiting_) {
          rest.push_back(std::move(held));
        }
        waiting_.clear();
        lock.unlock();
        for (Held& held : rest) {
          held.done(std::move(held.result));
        }
        return;
      }
      if (running_.empty()) {
        cv_.wait(lock);
        continue;
      }
      if (Clock::now() < running_.front().deadline) {
        cv_.wait_until(lock, running_.front().deadline);
        continue;
      }

      // Every session whose latency has passed frees up and takes the next waiting request.
      std::vector<Held> ready;
      Clock::time_point now = Clock::now();
      while (!running_.empty() && running_.front().deadline <= now) {
        ready.push_back(std::move(running_.front()));
        running_.pop_front();
        if (!waiting_.empty()) {
          waiting_.front().deadline = now + latency_;
          running_.push_back(std::move(waiting_.front()));
          waiting_.pop_front();
        }
      }
      lock.unlock();
      for (Held& held : ready) {
        held.done(std::move(held.result));
      }
      lock.lock();
    }
  }

  const std::chrono::microseconds latency_;
  const size_t sessions_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Held> running_;  // deadlines in increasing order: the latency is fixed
  std::deque<Held> waiting_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;  // last: starts after the fields it reads
};

namespace {

constexpr std::string_view kScheme = "slow-test:";

class SlowTestKey : public SigningKey {
 public:
  SlowTestKey(std::string ref, std::shared_ptr<SigningKey> inner,
              std::shared_ptr<SlowTestBackend::Device> device)
      : SigningKey(std::move(ref), inner->algorithm(), inner->public_key()),
        inner_(std::move(inner)),
        device_(std::move(device)) {}

  void Sign(SignRequest request, SignCallback done) override {
    inner_->Sign(std::move(request),
                 [device = device_, done = std::move(done)](StatusOr<Bytes> result) mutable {
                   device->Submit(std::move(result), std::move(done));
                 });
  }

 private:
  std::shared_ptr<SigningKey> inner_;
  std::shared_ptr<SlowTestBackend::Device> device_;
};

}  // namespace

SlowTestBackend::SlowTestBackend(Options options)
    : options_(options),
      software_(std::make_unique<SoftwareBackend>(
          SoftwareBackend::Options{"", options.workers == 0 ? 1 : options.workers, 64})),
      device_(std::make_shared<Device>(options.latency,
                                       options.sessions == 0 ? 1 : options.sessions)) {}

SlowTestBackend::~SlowTestBackend() {
  software_.reset();  // finishes queued signatures; they land in the device
  device_->Shutdown();
}

Capabilities SlowTestBackend::capabilities() const {
  Capabilities caps = software_->capabilities();
  caps.max_parallel_signatures = options_.sessions;
  return caps;
}

StatusOr<std::string> SlowTestBackend::InnerRef(std::string_view ref) const {
  if (!ref.starts_with(kScheme)) {
    return Status(Code::kInvalidArgument,
                  "slow-test key reference must start with 'slow-test:', "
                  "got '" +
                      std::string(ref) + "'");
  }
  return "software:" + std::string(ref.substr(kScheme.size()));
}

StatusOr<std::shared_ptr<SigningKey>> SlowTestBackend::Wrap(
    StatusOr<std::shared_ptr<SigningKey>> inner) {
  if (!inner.ok()) {
    return inner.status();
  }
  std::string ref = std::string(kScheme) + (*inner)->ref().substr(std::string("software:").size());
  return std::shared_ptr<SigningKey>(
      std::make_shared<SlowTestKey>(std::move(ref), std::move(inner).value(), device_));
}

StatusOr<std::shared_ptr<SigningKey>> SlowTestBackend::GenerateKey(const KeySpec& spec) {
  return Wrap(software_->GenerateKey(spec));
}

StatusOr<std::shared_ptr<SigningKey>> SlowTestBackend::LoadKey(std::string_view ref) {
  SIGNET_ASSIGN_OR_RETURN(std::string inner_ref, InnerRef(ref));
  StatusOr<std::shared_ptr<SigningKey>> loaded = software_->LoadKey(inner_ref);
  if (loaded.ok() || loaded.status().code() != Code::kNotFound) {
    return Wrap(std::move(loaded));
  }

  // A new label: a test backend has no device to provision, so the key is made now.
  std::string_view rest = std::string_view(inner_ref).substr(std::string("software:").size());
  KeySpec spec;
  for (size_t at = 0; at < rest.size();) {
    size_t end = rest.find(';', at);
    std::string_view attr = rest.substr(at, end == std::string_view::npos ? end : end - at);
    if (attr.starts_with("label=")) {
      spec.label = attr.substr(6);
    } else if (attr.starts_with("alg=")) {
      SIGNET_ASSIGN_OR_RETURN(spec.algorithm, ParseAlgorithm(attr.substr(4)));
    }
    at = end == std::string_view::npos ? rest.size() : end + 1;
  }
  return GenerateKey(spec);
}

Status SlowTestBackend::DestroyKey(std::string_view ref) {
  SIGNET_ASSIGN_OR_RETURN(std::string inner_ref, InnerRef(ref));
  return software_->DestroyKey(inner_ref);
}

}  // namespace signet
