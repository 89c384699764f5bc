// A RequestHandler for the IPC tests. It signs digests with a real ES256 key from
// the software backend, mints JWT-SVIDs signed by that key, echoes what the other
// operations asked for (so the test can check the round trip), and can answer
// after a random delay (out of order) or hold every answer until released.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/software/software_backend.h"
#include "ipc/request_handler.h"

namespace signet::testing {

class TestHandler : public ipc::RequestHandler {
 public:
  struct Options {
    int max_delay_ms = 0;  // answers come after a random delay in [0, max_delay_ms]
    bool hold = false;     // keep every answer until Release()
  };

  explicit TestHandler(Options options);
  ~TestHandler() override;

  void Handle(const ipc::Caller& caller, ipc::pb::Request request,
              ipc::ResponseCallback done) override;

  // Answers every held request (and stops holding).
  void Release();

  // Requests received, and the most received but not yet answered at one time.
  size_t received() const { return received_.load(); }
  size_t max_outstanding() const { return max_outstanding_.load(); }

  const SigningKey& key() const { return *key_; }

 private:
  void Answer(const ipc::Caller& caller, ipc::pb::Request request, ipc::ResponseCallback done);
  void Later(std::function<void()> work, int delay_ms);
  void Finish(ipc::ResponseCallback& done, ipc::pb::Response response);

  const Options options_;
  SoftwareBackend backend_;
  std::shared_ptr<SigningKey> key_;

  std::atomic<size_t> received_{0};
  std::atomic<size_t> outstanding_{0};
  std::atomic<size_t> max_outstanding_{0};

  std::mutex mu_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> timed_;
  std::vector<std::function<void()>> held_;
  bool holding_;
  bool stopping_ = false;
  std::thread timer_thread_;
};

}  // namespace signet::testing
