// The signet wire frame: a fixed 16-byte big-endian header and a protobuf body.
//
//   offset size field
//   0      4    body length in bytes, not counting the header (at most kMaxFrameBody)
//   4      1    protocol version (kProtocolVersion)
//   5      1    message type (FrameType)
//   6      2    reserved: sent as zero, ignored on receipt in version 1
//   8      8    request id, chosen by the client; a response carries its request's id
//
// docs/protocol.md is the full description, written for implementers in other
// languages. FrameDecoder cuts a byte stream into frames and checks the length
// before the body is buffered, so a peer cannot make the reader allocate more
// than one maximal frame.
//
// Thread safety: FrameDecoder is a plain value owned by one connection; the free
// functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signer/status.h"

namespace signet::ipc {

inline constexpr size_t kFrameHeaderSize = 16;
inline constexpr uint32_t kMaxFrameBody = 64 * 1024;
inline constexpr uint8_t kProtocolVersion = 1;

enum class FrameType : uint8_t {
  kRequest = 1,   // client to server; body: signet.ipc.v1.Request
  kResponse = 2,  // server to client; body: signet.ipc.v1.Response
  kError = 3,     // server to client; body: signet.ipc.v1.Error (frame-level refusal)
};

struct FrameHeader {
  uint32_t length = 0;
  uint8_t version = kProtocolVersion;
  uint8_t type = 0;
  uint16_t reserved = 0;
  uint64_t request_id = 0;
};

// Writes `header` in wire order into the 16 bytes at `out`.
void EncodeFrameHeader(const FrameHeader& header, uint8_t* out);

// Reads a header from the 16 bytes at `in`; does not validate it.
FrameHeader DecodeFrameHeader(const uint8_t* in);

// Appends one whole frame (header and body) to `out`. Precondition: body.size() <= kMaxFrameBody.
void AppendFrame(std::string& out, FrameType type, uint64_t request_id, std::string_view body);

// Appends a frame header and `body_size` bytes for the caller to fill, so that a message can
// be serialised in place; returns those bytes. Precondition: body_size <= kMaxFrameBody.
std::span<uint8_t> AppendFrameSpace(std::string& out, FrameType type, uint64_t request_id,
                                    size_t body_size);

// A frame as cut from the stream; `body` points into the decoder's buffer and is valid
// until the next call to Prepare() or Next().
struct FrameView {
  FrameHeader header;
  std::string_view body;
};

class FrameDecoder {
 public:
  // Space for the next read of up to `max_bytes`; call Commit with what was read.
  std::span<uint8_t> Prepare(size_t max_bytes);
  void Commit(size_t bytes);

  // The next complete frame, std::nullopt when more bytes are needed, or
  // kInvalidArgument when the header announces a body above kMaxFrameBody (the
  // stream cannot be resynchronised after that: close the connection).
  StatusOr<std::optional<FrameView>> Next();

  // Bytes received and not yet returned as frames.
  size_t buffered() const { return end_ - begin_; }

 private:
  std::vector<uint8_t> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace signet::ipc
