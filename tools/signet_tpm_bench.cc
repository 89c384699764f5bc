// signet-tpm-bench: how many signatures per second a TPM gives through the TPM
// backend, under a password session and under a salted HMAC session.
//
//   swtpm socket --tpm2 --server type=tcp,port=2321 --ctrl type=tcp,port=2322
//       --tpmstate dir=/tmp/tpm --flags not-need-init,startup-clear &
//   signet-tpm-bench --tcti swtpm:host=127.0.0.1,port=2321 --seconds 3 --alg ES256
//
// A throw-away key is generated in a temporary directory (its authorization
// value is random and kept in a 0600 file there) and signed with, `inflight`
// requests queued at a time, for each session mode in turn. Each signature is
// verified in software by the backend, as in production. With --tpm-pid, the
// swtpm's CPU time is read from /proc too: on a busy machine CPU time per
// signature says more about the cost than the wall-clock rate does.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "backends/tpm/tpm_backend.h"

namespace {

struct Flags {
  std::string tcti = "swtpm:host=127.0.0.1,port=2321";
  double seconds = 3;
  int inflight = 16;
  signet::Algorithm algorithm = signet::Algorithm::kES256;
  bool password = true;  // measure under a password session
  bool hmac = true;      // measure under a salted HMAC session
  int tpm_pid = 0;       // the swtpm process, to report its CPU time per signature
};

// CPU seconds (user + system) used so far by this process, or by `pid` when set.
double CpuSeconds(int pid) {
  if (pid == 0) {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t after_name = stat.rfind(')');
  if (after_name == std::string::npos) {
    return 0;
  }
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) {  // utime, stime
      ticks += std::atof(field.c_str());
    }
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Result {
  double per_second = 0;
  double own_cpu_ms = 0;  // this process's CPU time per signature
  double tpm_cpu_ms = 0;  // swtpm's CPU time per signature, when its pid is known
};

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--tcti CONF] [--seconds N] [--inflight N] "
               "[--alg ES256|ES384|RS256|PS256] [--session both|password|hmac] [--tpm-pid PID]\n",
               argv0);
  return 2;
}

// Keeps `inflight` signatures queued for `seconds`; returns signatures per second.
signet::StatusOr<Result> Measure(signet::SigningKey& key, const Flags& flags) {
  std::mutex mu;
  std::condition_variable done_cv;
  std::atomic<long> completed{0};
  std::atomic<long> failed{0};
  std::atomic<bool> stopping{false};
  int outstanding = 0;
  signet::Status first_error;

  std::function<void()> submit;
  auto on_done = [&](signet::StatusOr<signet::Bytes> sig) {
    if (sig.ok()) {
      completed++;
    } else if (failed++ == 0) {
      std::lock_guard<std::mutex> lock(mu);
      first_error = sig.status();
    }
    if (!stopping.load()) {
      submit();
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    if (--outstanding == 0) {
      done_cv.notify_all();
    }
  };
  submit = [&] {
    std::string message = "benchmark message " + std::to_string(completed.load());
    key.Sign(signet::SignRequest{signet::Bytes(message.begin(), message.end()), false,
                                 signet::SignatureFormat::kRaw},
             on_done);
  };

  auto start = std::chrono::steady_clock::now();
  double own_start = CpuSeconds(0);
  double tpm_start = flags.tpm_pid != 0 ? CpuSeconds(flags.tpm_pid) : 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    outstanding = flags.inflight;
  }
  for (int i = 0; i < flags.inflight; ++i) {
    submit();
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.seconds));
  stopping.store(true);
  long at_stop = completed.load();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double own_cpu = CpuSeconds(0) - own_start;
  double tpm_cpu = flags.tpm_pid != 0 ? CpuSeconds(flags.tpm_pid) - tpm_start : 0;
  std::unique_lock<std::mutex> lock(mu);
  done_cv.wait(lock, [&] { return outstanding == 0; });
  if (failed.load() != 0) {
    return first_error.WithContext(std::to_string(failed.load()) + " signatures failed; first: ");
  }
  Result result;
  double count = static_cast<double>(std::max(1L, at_stop));
  result.per_second = static_cast<double>(at_stop) / elapsed;
  result.own_cpu_ms = own_cpu * 1000 / count;
  result.tpm_cpu_ms = tpm_cpu * 1000 / count;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      return Usage(argv[0]);
    }
    std::string value = argv[++i];
    if (arg == "--tcti") {
      flags.tcti = value;
    } else if (arg == "--seconds") {
      flags.seconds = std::atof(value.c_str());
    } else if (arg == "--inflight") {
      flags.inflight = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--session" && (value == "both" || value == "password" || value == "hmac")) {
      flags.password = value != "hmac";
      flags.hmac = value != "password";
    } else if (arg == "--tpm-pid") {
      flags.tpm_pid = std::atoi(value.c_str());
    } else if (arg == "--alg") {
      auto alg = signet::ParseAlgorithm(value);
      if (!alg.ok()) {
        std::fprintf(stderr, "%s\n", alg.status().ToString().c_str());
        return 2;
      }
      flags.algorithm = *alg;
    } else {
      return Usage(argv[0]);
    }
  }

  std::string dir = (std::filesystem::temp_directory_path() / "signet-tpm-bench-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string auth_file = dir + "/auth";
  {
    unsigned char random[16];
    RAND_bytes(random, sizeof(random));
    std::ofstream out(auth_file, std::ios::binary);
    for (unsigned char byte : random) {
      out << static_cast<char>('a' + byte % 26);
    }
  }
  ::chmod(auth_file.c_str(), 0600);

  std::printf("TCTI %s, %s, %d requests in flight, %.1f s per mode\n", flags.tcti.c_str(),
              std::string(signet::AlgorithmName(flags.algorithm)).c_str(), flags.inflight,
              flags.seconds);
  int exit_code = 0;
  int round = 0;
  for (auto session :
       {signet::TpmBackend::Session::kPassword, signet::TpmBackend::Session::kHmac}) {
    if ((session == signet::TpmBackend::Session::kHmac && !flags.hmac) ||
        (session == signet::TpmBackend::Session::kPassword && !flags.password)) {
      continue;
    }
    const char* name = session == signet::TpmBackend::Session::kHmac
                           ? "salted HMAC session, parameter encryption"
                           : "password session";
    signet::TpmBackend::Options options;
    options.tcti = flags.tcti;
    options.session = session;
    options.key_dir = dir;
    options.key_auth.file = auth_file;
    auto backend = signet::TpmBackend::Open(options);
    if (!backend.ok()) {
      std::fprintf(stderr, "%s\n", backend.status().ToString().c_str());
      exit_code = 1;
      break;
    }
    signet::KeySpec spec;
    spec.algorithm = flags.algorithm;
    spec.label = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(round++);
    auto key = (*backend)->GenerateKey(spec);
    if (!key.ok()) {
      std::fprintf(stderr, "%s\n", key.status().ToString().c_str());
      exit_code = 1;
      break;
    }
    auto rate = Measure(**key, flags);
    (void)(*backend)->DestroyKey((*key)->ref());
    if (!rate.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, rate.status().ToString().c_str());
      exit_code = 1;
      continue;
    }
    std::printf("%-45s %8.0f signatures/s  %6.2f ms CPU/signature here", name, rate->per_second,
                rate->own_cpu_ms);
    if (flags.tpm_pid != 0) {
      std::printf("  %6.2f ms in swtpm", rate->tpm_cpu_ms);
    }
    std::printf("\n");
  }
  std::filesystem::remove_all(dir);
  return exit_code;
}
