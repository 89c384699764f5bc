// BatchExecutor: a fixed set of worker threads that drain one FIFO queue in batches.
//
// Backends run their device calls here so that callers never wait on a device.
// A worker that wakes takes everything waiting (up to `max_batch` tasks) in one
// lock acquisition and runs it back to back: under load the cost of waking and
// locking is paid once per batch, not once per signature. Each task is told the
// index of the worker running it, so a backend can keep per-worker state such as
// one PKCS#11 session per worker.
//
// Thread safety: Post() and queue_depth() may be called from any thread. The
// destructor runs every task already posted, then joins the workers; it must not
// be called from a worker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace signet {

class BatchExecutor {
 public:
  using Task = std::function<void(size_t worker_index)>;

  BatchExecutor(size_t workers, size_t max_batch);
  ~BatchExecutor();
  BatchExecutor(const BatchExecutor&) = delete;
  BatchExecutor& operator=(const BatchExecutor&) = delete;

  void Post(Task task);

  size_t workers() const { return threads_.size(); }

  // Tasks waiting for a worker (not those running).
  size_t queue_depth() const;

 private:
  void Run(size_t worker_index);

  const size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace signet
