#include "tools/bench/load.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "signer/ossl.h"

namespace signet::bench {

namespace pb = ::signet::ipc::pb;
namespace {

using Clock = std::chrono::steady_clock;

// A PKCS#10 CSR for a fresh P-256 key, DER. Made before the measurement starts.
StatusOr<std::string> MakeCsr() {
  ossl::PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509_REQ* req = X509_REQ_new();
  if (!key || req == nullptr || X509_REQ_set_pubkey(req, key.get()) != 1 ||
      X509_REQ_sign(req, key.get(), EVP_sha256()) <= 0) {
    X509_REQ_free(req);
    return ossl::Error("X509_REQ_sign");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req, &der);
  X509_REQ_free(req);
  if (len <= 0) {
    return ossl::Error("i2d_X509_REQ");
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// Builds the requests once; sending copies one.
struct RequestPool {
  std::vector<pb::Request> requests;  // one per (op, csr) combination, cycled
  std::vector<uint32_t> items;        // items in each
};

StatusOr<RequestPool> BuildPool(const LoadOptions& options) {
  std::vector<std::string> csrs;
  for (Op op : options.mix) {
    if (op == Op::kX509Svid && csrs.empty()) {
      for (size_t i = 0; i < std::max<size_t>(options.csr_pool, 1); ++i) {
        SIGNET_ASSIGN_OR_RETURN(std::string csr, MakeCsr());
        csrs.push_back(std::move(csr));
      }
    }
  }
  const std::string td = "spiffe://" + options.trust_domain;
  RequestPool pool;
  size_t variants = csrs.empty() ? 1 : csrs.size();
  for (size_t v = 0; v < variants; ++v) {
    for (Op op : options.mix) {
      pb::Request request;
      for (size_t i = 0; i < options.batch; ++i) {
        switch (op) {
          case Op::kJwtSvid: {
            auto* item = request.mutable_mint_jwt_svid()->add_items();
            item->set_spiffe_id(td + "/workload/bench");
            item->add_audience("https://api.example.org");
            item->set_ttl_seconds(300);
            break;
          }
          case Op::kAccessToken: {
            auto* item = request.mutable_mint_access_token()->add_items();
            item->set_subject("user:alice");
            item->add_audience("https://api.example.org");
            item->set_client_id("bench-agent");
            item->set_ttl_seconds(300);
            item->add_actors()->set_subject(td + "/agent/refunds");
            item->add_actors()->set_subject(td + "/agent/orchestrator");
            break;
          }
          case Op::kX509Svid: {
            auto* item = request.mutable_issue_x509_svid()->add_items();
            item->set_csr(csrs[(v * options.batch + i) % csrs.size()]);
            item->set_spiffe_id(td + "/workload/bench");
            item->set_ttl_seconds(3600);
            break;
          }
          case Op::kDigest: {
            auto* item = request.mutable_sign_digest()->add_items();
            item->set_key_name(options.raw_key);
            std::string digest(32, '\0');
            RAND_bytes(reinterpret_cast<unsigned char*>(digest.data()), 32);
            item->set_digest(digest);
            item->set_encoding(pb::SIGNATURE_ENCODING_RAW);
            break;
          }
        }
      }
      pool.requests.push_back(std::move(request));
      pool.items.push_back(static_cast<uint32_t>(options.batch));
    }
  }
  return pool;
}

// Counts the items of an answer that carry an error; the first message is kept.
template <typename Items>
uint64_t CountItemErrors(const Items& items, std::string* first) {
  uint64_t errors = 0;
  for (const auto& item : items) {
    if (item.has_error()) {
      if (first->empty()) {
        *first = item.error().code() + ": " + item.error().message();
      }
      ++errors;
    }
  }
  return errors;
}

// What one connection saw; touched only on that client's thread until the run ends.
struct Tally {
  std::vector<uint32_t> latencies_us;
  uint64_t requests = 0, items = 0, item_errors = 0, request_errors = 0;
  std::string first_error;
};

void Record(Tally& tally, const StatusOr<pb::Response>& answer, uint32_t items,
            Clock::time_point sent) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
  tally.latencies_us.push_back(static_cast<uint32_t>(us));
  ++tally.requests;
  tally.items += items;
  if (!answer.ok()) {
    ++tally.request_errors;
    tally.item_errors += items;
    if (tally.first_error.empty()) {
      tally.first_error = answer.status().ToString();
    }
    return;
  }
  const pb::Response& response = *answer;
  if (response.has_error()) {
    ++tally.request_errors;
    tally.item_errors += items;
    if (tally.first_error.empty()) {
      tally.first_error = response.error().code() + ": " + response.error().message();
    }
  } else if (response.has_mint_jwt_svid()) {
    tally.item_errors += CountItemErrors(response.mint_jwt_svid().items(), &tally.first_error);
  } else if (response.has_mint_access_token()) {
    tally.item_errors += CountItemErrors(response.mint_access_token().items(), &tally.first_error);
  } else if (response.has_issue_x509_svid()) {
    tally.item_errors += CountItemErrors(response.issue_x509_svid().items(), &tally.first_error);
  } else if (response.has_sign_digest()) {
    tally.item_errors += CountItemErrors(response.sign_digest().items(), &tally.first_error);
  }
}

// One connection and its share of the load.
class Connection {
 public:
  Connection(std::unique_ptr<ipc::Client> client, const RequestPool& pool, size_t offset)
      : client_(std::move(client)), pool_(pool), next_(offset) {}

  // Sends one request; `keep_going` decides in the callback whether to send another.
  void SendOne(bool closed_loop) {
    size_t index = next_++ % pool_.requests.size();
    uint32_t items = pool_.items[index];
    Clock::time_point sent = Clock::now();
    in_flight_.fetch_add(1);
    client_->Send(pool_.requests[index], [this, items, sent, closed_loop](auto answer) {
      if (measuring_.load()) {
        Record(tally_, answer, items, sent);
      }
      in_flight_.fetch_sub(1);
      if (closed_loop && !stopping_.load()) {
        SendOne(true);
      }
    });
  }

  size_t in_flight() const { return in_flight_.load(); }
  void set_measuring(bool on) { measuring_ = on; }
  void Stop() { stopping_ = true; }
  Tally& tally() { return tally_; }
  ipc::Client& client() { return *client_; }

 private:
  std::unique_ptr<ipc::Client> client_;
  const RequestPool& pool_;
  std::atomic<size_t> next_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> measuring_{false};
  std::atomic<bool> stopping_{false};
  Tally tally_;
};

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) {
    return 0;
  }
  size_t index = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

StatusOr<std::vector<std::unique_ptr<Connection>>> Connect(const LoadOptions& options,
                                                           const RequestPool& pool) {
  std::vector<std::unique_ptr<Connection>> connections;
  for (size_t i = 0; i < options.connections; ++i) {
    SIGNET_ASSIGN_OR_RETURN(auto client, ipc::Client::Create(options.client));
    pb::Request health;
    health.mutable_health();
    SIGNET_ASSIGN_OR_RETURN(pb::Response answer, client->Call(health));
    if (answer.has_error()) {
      return Status(Code::kUnavailable, "health: " + answer.error().message());
    }
    connections.push_back(std::make_unique<Connection>(std::move(client), pool, i));
  }
  return connections;
}

}  // namespace

std::string OpName(Op op) {
  switch (op) {
    case Op::kJwtSvid:
      return "jwt";
    case Op::kAccessToken:
      return "token";
    case Op::kX509Svid:
      return "x509";
    case Op::kDigest:
      return "digest";
  }
  return "?";
}

StatusOr<std::vector<Op>> ParseMix(const std::string& text) {
  std::vector<Op> mix;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    bool found = false;
    for (Op op : {Op::kJwtSvid, Op::kAccessToken, Op::kX509Svid, Op::kDigest}) {
      if (OpName(op) == name) {
        mix.push_back(op);
        found = true;
      }
    }
    if (!found) {
      return Status(Code::kInvalidArgument,
                    "--mix: unknown operation '" + name + "'; expected jwt, token, x509, digest");
    }
  }
  if (mix.empty()) {
    return Status(Code::kInvalidArgument, "--mix is empty");
  }
  return mix;
}

double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) {
    return -1;
  }
  // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
  std::stringstream fields(text.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14 || n == 15) {
      ticks += std::stod(field);
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessRssMib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stod(line.substr(6)) / 1024.0;  // kB
    }
  }
  return -1;
}

StatusOr<LoadResult> RunLoad(const LoadOptions& options) {
  SIGNET_ASSIGN_OR_RETURN(RequestPool pool, BuildPool(options));
  SIGNET_ASSIGN_OR_RETURN(auto connections, Connect(options, pool));
  const bool closed_loop = options.rate <= 0;

  auto set_measuring = [&](bool on) {
    for (auto& c : connections) {
      c->set_measuring(on);
    }
  };
  auto total_requests = [&] {
    uint64_t n = 0;
    for (auto& c : connections) {
      n += c->tally().requests;  // read racily while running: only for the count stop
    }
    return n;
  };

  // Start the load; measure after the warm-up.
  Clock::time_point start = Clock::now();
  if (closed_loop) {
    for (auto& c : connections) {
      for (size_t i = 0; i < options.in_flight; ++i) {
        c->SendOne(true);
      }
    }
  }
  Clock::time_point measure_start;
  double cpu_start = 0;
  bool measuring = false;
  uint64_t sent = 0;
  while (true) {
    Clock::time_point now = Clock::now();
    if (!measuring && now - start >= std::chrono::duration<double>(options.warmup)) {
      measuring = true;
      measure_start = now;
      cpu_start = options.server_pid > 0 ? ProcessCpuSeconds(options.server_pid) : 0;
      set_measuring(true);
    }
    if (measuring) {
      double elapsed = std::chrono::duration<double>(now - measure_start).count();
      if (options.count > 0 ? total_requests() >= options.count : elapsed >= options.seconds) {
        break;
      }
    }
    if (closed_loop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options.count > 0 ? 1 : 10));
      continue;
    }
    // Open loop: the k-th request leaves at start + k / rate, on connection k mod N.
    auto due = start + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(static_cast<double>(sent) / options.rate));
    if (due > now) {
      std::this_thread::sleep_until(due);
      continue;
    }
    Connection& c = *connections[sent % connections.size()];
    if (c.in_flight() < options.in_flight) {
      c.SendOne(false);
    }
    ++sent;
  }
  Clock::time_point measure_end = Clock::now();
  set_measuring(false);

  LoadResult result;
  result.seconds = std::chrono::duration<double>(measure_end - measure_start).count();
  if (options.server_pid > 0) {
    result.server_cpu_seconds = ProcessCpuSeconds(options.server_pid) - cpu_start;
    result.server_rss_mib = ProcessRssMib(options.server_pid);
  }
  for (auto& c : connections) {
    c->Stop();
  }
  for (auto& c : connections) {
    while (c->in_flight() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::vector<uint32_t> all;
  for (auto& c : connections) {
    Tally& t = c->tally();
    all.insert(all.end(), t.latencies_us.begin(), t.latencies_us.end());
    result.requests += t.requests;
    result.items += t.items;
    result.item_errors += t.item_errors;
    result.request_errors += t.request_errors;
    if (result.first_error.empty()) {
      result.first_error = t.first_error;
    }
  }
  std::sort(all.begin(), all.end());
  result.p50_us = Percentile(all, 0.50);
  result.p99_us = Percentile(all, 0.99);
  result.p999_us = Percentile(all, 0.999);
  result.max_us = all.empty() ? 0 : all.back();
  return result;
}

IdleResult RunIdle(const LoadOptions& options, double hold_seconds) {
  IdleResult result;
  if (options.server_pid > 0) {
    result.server_rss_before_mib = ProcessRssMib(options.server_pid);
  }
  std::vector<std::unique_ptr<ipc::Client>> clients;
  pb::Request health;
  health.mutable_health();
  for (size_t i = 0; i < options.connections; ++i) {
    auto client = ipc::Client::Create(options.client);
    if (!client.ok()) {
      result.first_error = client.status().ToString();
      break;
    }
    auto answer = (*client)->Call(health);
    if (!answer.ok() || answer->has_error()) {
      result.first_error = answer.ok() ? answer->error().message() : answer.status().ToString();
      break;
    }
    clients.push_back(std::move(client).value());
    ++result.connected;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(hold_seconds));
  if (options.server_pid > 0) {
    result.server_rss_mib = ProcessRssMib(options.server_pid);
  }
  return result;
}

}  // namespace signet::bench
