#include "ipc/frame.h"

#include <cstring>

namespace signet::ipc {
namespace {

void PutBigEndian(uint64_t value, size_t size, uint8_t* out) {
  for (size_t i = 0; i < size; ++i) {
    out[size - 1 - i] = static_cast<uint8_t>(value >> (8 * i));
  }
}

uint64_t GetBigEndian(const uint8_t* in, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    value = (value << 8) | in[i];
  }
  return value;
}

}  // namespace

void EncodeFrameHeader(const FrameHeader& header, uint8_t* out) {
  PutBigEndian(header.length, 4, out);
  out[4] = header.version;
  out[5] = header.type;
  PutBigEndian(header.reserved, 2, out + 6);
  PutBigEndian(header.request_id, 8, out + 8);
}

FrameHeader DecodeFrameHeader(const uint8_t* in) {
  FrameHeader header;
  header.length = static_cast<uint32_t>(GetBigEndian(in, 4));
  header.version = in[4];
  header.type = in[5];
  header.reserved = static_cast<uint16_t>(GetBigEndian(in + 6, 2));
  header.request_id = GetBigEndian(in + 8, 8);
  return header;
}

void AppendFrame(std::string& out, FrameType type, uint64_t request_id, std::string_view body) {
  std::span<uint8_t> space = AppendFrameSpace(out, type, request_id, body.size());
  std::memcpy(space.data(), body.data(), body.size());
}

std::span<uint8_t> AppendFrameSpace(std::string& out, FrameType type, uint64_t request_id,
                                    size_t body_size) {
  FrameHeader header;
  header.length = static_cast<uint32_t>(body_size);
  header.type = static_cast<uint8_t>(type);
  header.request_id = request_id;

  size_t at = out.size();
  out.resize(at + kFrameHeaderSize + body_size);
  auto* bytes = reinterpret_cast<uint8_t*>(out.data() + at);
  EncodeFrameHeader(header, bytes);
  return {bytes + kFrameHeaderSize, body_size};
}

std::span<uint8_t> FrameDecoder::Prepare(size_t max_bytes) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0 && buffer_.size() - end_ < max_bytes) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

  if (buffer_.size() - end_ < max_bytes) {
    buffer_.resize(end_ + max_bytes);
  }
  return {buffer_.data() + end_, max_bytes};
}

void FrameDecoder::Commit(size_t bytes) {
  end_ += bytes;
}

StatusOr<std::optional<FrameView>> FrameDecoder::Next() {
  if (end_ - begin_ < kFrameHeaderSize) {
    return std::optional<FrameView>();
  }

  FrameHeader header = DecodeFrameHeader(buffer_.data() + begin_);
  if (header.length > kMaxFrameBody) {
    return Status(Code::kInvalidArgument,
                  "frame header announces a body of " + std::to_string(header.length) +
                      " bytes; the maximum is " + std::to_string(kMaxFrameBody));
  }
  if (end_ - begin_ < kFrameHeaderSize + header.length) {
    return std::optional<FrameView>();
  }

  const char* body = reinterpret_cast<const char*>(buffer_.data() + begin_ + kFrameHeaderSize);
  begin_ += kFrameHeaderSize + header.length;
  return std::optional<FrameView>(FrameView{header, std::string_view(body, header.length)});
}

}  // namespace signet::ipc
