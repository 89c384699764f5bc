#include "signer/audit/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

namespace signet::audit {
namespace {

// The index in "00000012.jsonl", or 0 when the name is not a segment's.
uint32_t ParseSegmentName(std::string_view name) {
  constexpr std::string_view kSuffix = ".jsonl";
  if (name.size() != 8 + kSuffix.size() || name.substr(8) != kSuffix) {
    return 0;
  }
  uint64_t index = 0;
  for (char c : name.substr(0, 8)) {
    if (c < '0' || c > '9') {
      return 0;
    }
    index = index * 10 + static_cast<uint64_t>(c - '0');
  }
  return static_cast<uint32_t>(index);
}

}  // namespace

std::string SegmentName(uint32_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08u.jsonl", index);
  return name;
}

Status ErrnoStatus(std::string_view call, const std::string& path, int err) {
  return Status(Code::kUnavailable,
                std::string(call) + "(" + path + "): " + std::strerror(err) + " (errno " +
                    std::to_string(err) + ")",
                static_cast<uint64_t>(err));
}

StatusOr<std::vector<SegmentInfo>> ListSegments(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return Status(ec == std::errc::no_such_file_or_directory ? Code::kNotFound : Code::kUnavailable,
                  "listing audit log directory " + dir + ": " + ec.message());
  }
  std::vector<SegmentInfo> out;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    uint32_t index = ParseSegmentName(name);
    if (index != 0) {
      out.push_back({index, name, entry.path().string()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentInfo& a, const SegmentInfo& b) { return a.index < b.index; });
  return out;
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("open", path, errno);
  }
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    out.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("read", path, err);
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

SegmentFile::~SegmentFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

SegmentFile::SegmentFile(SegmentFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), path_(std::move(other.path_)) {}

SegmentFile& SegmentFile::operator=(SegmentFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

StatusOr<SegmentFile> SegmentFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return ErrnoStatus("open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("fstat", path, err);
  }
  SegmentFile file;
  file.fd_ = fd;
  file.size_ = static_cast<uint64_t>(st.st_size);
  file.path_ = path;
  return file;
}

Status SegmentFile::Append(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoStatus("write", path_, errno);
    }
    size_ += static_cast<uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Status SegmentFile::Sync() {
  if (::fdatasync(fd_) != 0) {
    return ErrnoStatus("fdatasync", path_, errno);
  }
  return OkStatus();
}

Status SegmentFile::TruncateTo(uint64_t length) {
  if (::ftruncate(fd_, static_cast<off_t>(length)) != 0) {
    return ErrnoStatus("ftruncate", path_, errno);
  }
  size_ = length;
  return Sync();
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("open", dir, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return ErrnoStatus("fsync", dir, err);
  }
  return OkStatus();
}

}  // namespace signet::audit
