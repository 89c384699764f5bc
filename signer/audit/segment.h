// Segment files of the audit log: naming, listing, reading, and the one file
// handle the writer appends to.
//
// A log directory holds segments named by an eight-digit decimal index,
// `00000001.jsonl`, `00000002.jsonl`, ...; other files are ignored. Segments are
// only ever appended to; the one exception is cutting a torn, never-acknowledged
// tail (at start-up, or after a failed write), which restores the file to its last
// durable length.
//
// Errors from the file system are kUnavailable with the path and errno in the
// message and errno as raw_code, so the service can refuse requests it cannot record.
//
// Thread safety: SegmentFile is used by one thread at a time (the log's writer);
// the free functions are safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "signer/status.h"

namespace signet::audit {

struct SegmentInfo {
  uint32_t index = 0;
  std::string name;  // 00000001.jsonl
  std::string path;  // dir/00000001.jsonl
};

// "00000001.jsonl" for 1.
std::string SegmentName(uint32_t index);

// The segments in `dir`, sorted by index. kNotFound when `dir` does not exist.
StatusOr<std::vector<SegmentInfo>> ListSegments(const std::string& dir);

// The whole content of a file.
StatusOr<std::string> ReadWholeFile(const std::string& path);

// A Status for a failed system call: "write(/var/log/a.jsonl): No space left on device".
Status ErrnoStatus(std::string_view call, const std::string& path, int err);

// An append-only file handle. Move-only; closes on destruction.
class SegmentFile {
 public:
  SegmentFile() = default;
  ~SegmentFile();
  SegmentFile(SegmentFile&& other) noexcept;
  SegmentFile& operator=(SegmentFile&& other) noexcept;
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  // Opens (creating it with mode 0640 if absent) for appending; size() is its length.
  static StatusOr<SegmentFile> Open(const std::string& path);

  // Writes all of `data` at the end, retrying short writes. On error some prefix
  // of `data` may have reached the file.
  Status Append(std::string_view data);

  // fdatasync: everything appended so far is on stable storage when this returns OK.
  Status Sync();

  // Cuts the file to `length` bytes and syncs it.
  Status TruncateTo(uint64_t length);

  bool is_open() const { return fd_ >= 0; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;  // bytes this handle believes the file holds
  std::string path_;
};

// fsync of a directory, so that a newly created file's entry is durable.
Status SyncDirectory(const std::string& dir);

}  // namespace signet::audit
