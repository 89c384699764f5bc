#include "signer/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace signet {
namespace {

Status Errno(std::string_view call, const std::string& path) {
  int err = errno;
  return Status(Code::kDeviceError, std::string(call) + "(" + path + "): " + std::strerror(err),
                err);
}

// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Errno("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode) {
  std::filesystem::path target(path);
  std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string tmp = path + ".tmp." + std::to_string(::getpid());

  Fd file(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (file.get() < 0) {
    return Errno("open", tmp);
  }
  if (::fchmod(file.get(), static_cast<mode_t>(mode)) != 0) {  // the umask must not widen it
    return Errno("fchmod", tmp);
  }
  SIGNET_RETURN_IF_ERROR(WriteAll(file.get(), contents, tmp));
  if (::fsync(file.get()) != 0) {
    return Errno("fsync", tmp);
  }
  if (::close(file.release()) != 0) {
    return Errno("close", tmp);
  }

  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status status = Errno("rename", tmp + " -> " + path);
    ::unlink(tmp.c_str());
    return status;
  }

  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) {
    return Errno("open", dir);
  }
  if (::fsync(dir_fd.get()) != 0) {
    return Errno("fsync", dir);
  }
  return OkStatus();
}

StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT) {
      return std::optional<std::string>();
    }
    return Errno("open", path);
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Errno("read", path);
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  return std::optional<std::string>(std::move(text));
}

StatusOr<FileLock> FileLock::Acquire(const std::string& path) {
  return Lock(path, LOCK_EX);
}

StatusOr<FileLock> FileLock::TryAcquire(const std::string& path) {
  return Lock(path, LOCK_EX | LOCK_NB);
}

StatusOr<FileLock> FileLock::Lock(const std::string& path, int operation) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return Errno("open", path);
  }
  while (::flock(fd.get(), operation) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status(Code::kFailedPrecondition, path + " is locked by another process");
    }
    if (errno != EINTR) {
      return Errno("flock", path);
    }
  }
  return FileLock(fd.release());
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::close(fd_);  // releases the flock
  }
}

}  // namespace signet
