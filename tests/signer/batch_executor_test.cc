#include "signer/batch_executor.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <set>

namespace signet {

TEST_CASE("batch executor runs every posted task, including those queued at shutdown",
          "[executor]") {
  std::atomic<int> ran{0};
  {
    BatchExecutor executor(2, 8);
    for (int i = 0; i < 1000; ++i) {
      executor.Post([&ran](size_t) { ran++; });
    }
  }
  CHECK(ran.load() == 1000);
}

TEST_CASE("batch executor hands each task the index of the worker running it", "[executor]") {
  BatchExecutor executor(3, 4);
  std::mutex mu;
  std::set<size_t> seen;
  std::vector<std::future<void>> done;
  for (int i = 0; i < 300; ++i) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    executor.Post([&, promise](size_t worker) {
      {
        std::lock_guard<std::mutex> lock(mu);
        seen.insert(worker);
      }
      promise->set_value();
    });
  }
  for (auto& f : done) {
    f.get();
  }
  for (size_t worker : seen) {
    CHECK(worker < 3);
  }
}

}  // namespace signet
