// Durable whole-file replacement for the state directory (catalogue, deny list).
//
// WriteFileAtomically writes the new contents to a temporary file beside the
// target, fsyncs it, renames it over the target and fsyncs the directory. A
// crash at any point leaves either the previous file or the new one under the
// target's name, never a torn mix; a stray temporary file may remain and is
// ignored by readers.
//
// Thread safety: free functions. Two writers of the same path must be serialised
// by the caller (FileLock below serialises processes).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "signer/status.h"

namespace signet {

// Replaces `path` with `contents`, created with `mode`. Errors name the failing call and
// path; a failure leaves the previous file in place.
Status WriteFileAtomically(const std::string& path, std::string_view contents, int mode = 0600);

// The whole file, or std::nullopt when it does not exist.
StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& path);

// An exclusive advisory lock (flock) on `path`, created if absent, held until
// destruction. Serialises read-modify-write cycles between processes, e.g. signetd
// and an offline signetctl on the same state directory.
class FileLock {
 public:
  static StatusOr<FileLock> Acquire(const std::string& path);
  // The same without waiting: kFailedPrecondition while another holder has it.
  static StatusOr<FileLock> TryAcquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  static StatusOr<FileLock> Lock(const std::string& path, int operation);
  int fd_ = -1;
};

}  // namespace signet
