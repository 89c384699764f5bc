#include "tests/support/swtpm_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <vector>

namespace signet::testing {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);

bool InPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    std::string dir =
        dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) {
      return true;
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return false;
}

// Binds a loopback TCP socket to `port` (0: any); returns the fd, or -1.
int BindLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

// A port P such that P and P+1 are both free on loopback right now.
int PickPortPair() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int first = BindLoopback(0);
    if (first < 0) {
      continue;
    }
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(first, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    int second = port < 65535 ? BindLoopback(port + 1) : -1;
    ::close(first);
    if (second >= 0) {
      ::close(second);
      return port;
    }
  }
  throw std::runtime_error("swtpm fixture: found no two free consecutive loopback ports");
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (fd >= 0) {
    ::close(fd);
  }
  return ok;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

SwtpmProcess::SwtpmProcess() : SwtpmProcess(Options{}) {}

SwtpmProcess::SwtpmProcess(Options options) : options_(options) {
  if (!InPath("swtpm")) {
    throw std::runtime_error(
        "swtpm is not installed (not found in PATH): TPM tests need a real software TPM; "
        "install the swtpm and swtpm-tools packages (tools/deps.sh does)");
  }
  std::string why;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = PickPortPair();
    if (TryStart(&why)) {
      return;
    }
  }
  throw std::runtime_error("swtpm did not start: " + why);
}

SwtpmProcess::~SwtpmProcess() {
  Kill();
}

std::string SwtpmProcess::tcti() const {
  return "swtpm:host=127.0.0.1,port=" + std::to_string(port_);
}

void SwtpmProcess::Kill() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void SwtpmProcess::Start() {
  Kill();
  std::string why;
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!TryStart(&why)) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("swtpm did not restart on port " + std::to_string(port_) + ": " +
                               why);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // ports still held
  }
}

bool SwtpmProcess::TryStart(std::string* why) {
  std::string log = state_.path() + "/swtpm.log";
  std::vector<std::string> args = {
      "swtpm",
      "socket",
      "--tpm2",
      "--server",
      "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(port_),
      "--ctrl",
      "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(port_ + 1),
      "--tpmstate",
      "dir=" + state_.path(),
      "--flags",
      options_.startup_clear ? "not-need-init,startup-clear" : "not-need-init",
  };
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    *why = "fork failed";
    return false;
  }
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execvp("swtpm", argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *why = "swtpm exited at start (status " + std::to_string(status) + "): " + ReadFile(log);
      return false;
    }
    if (Accepts(port_)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  *why = "swtpm did not accept connections within 10 s: " + ReadFile(log);
  return false;
}

std::string RunTpm2Tool(const SwtpmProcess& tpm, const std::string& tool) {
  std::string output;
  std::string command = tool + " -T '" + tpm.tcti() + "'";
  if (RunCommand(command, &output) != 0) {
    throw std::runtime_error("`" + command + "` failed: " + output);
  }
  return output;
}

}  // namespace signet::testing
