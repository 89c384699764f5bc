#include "signer/batch_executor.h"

#include <algorithm>

namespace signet {

BatchExecutor::BatchExecutor(size_t workers, size_t max_batch)
    : max_batch_(std::max<size_t>(1, max_batch)) {
  workers = std::max<size_t>(1, workers);
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this, i] { Run(i); });
  }
}

BatchExecutor::~BatchExecutor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
}

void BatchExecutor::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
}

size_t BatchExecutor::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void BatchExecutor::Run(size_t worker_index) {
  std::vector<Task> batch;
  batch.reserve(max_batch_);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and nothing left to run
      }
      // Take a fair share so that other workers are not left idle behind one batch.
      size_t share = (queue_.size() + threads_.size() - 1) / threads_.size();
      size_t n = std::min(max_batch_, share);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (!queue_.empty()) {
        ready_.notify_one();  // leave the rest to another worker
      }
    }

    for (Task& task : batch) {
      task(worker_index);
    }
    batch.clear();
  }
}

}  // namespace signet
