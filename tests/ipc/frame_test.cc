// The frame header layout, the decoder's limits, and the metrics text format.
#include "ipc/frame.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ipc/metrics.h"

namespace signet::ipc {
namespace {

TEST_CASE("frame header is 16 big-endian bytes in the documented order", "[ipc]") {
  FrameHeader header;
  header.length = 0x01020304;
  header.version = 1;
  header.type = 2;
  header.request_id = 0x1122334455667788ULL;
  uint8_t bytes[kFrameHeaderSize];
  EncodeFrameHeader(header, bytes);

  const uint8_t expected[kFrameHeaderSize] = {0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x00, 0x00,
                                              0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  CHECK(std::memcmp(bytes, expected, kFrameHeaderSize) == 0);
  FrameHeader decoded = DecodeFrameHeader(bytes);
  CHECK(decoded.length == header.length);
  CHECK(decoded.request_id == header.request_id);
  CHECK(decoded.type == 2);
}

TEST_CASE("frame decoder waits for whole frames and cuts a stream into them", "[ipc]") {
  std::string stream;
  AppendFrame(stream, FrameType::kRequest, 1, "first");
  AppendFrame(stream, FrameType::kRequest, 2, "second");

  FrameDecoder decoder;
  auto feed = [&](std::string_view bytes) {
    auto space = decoder.Prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    decoder.Commit(bytes.size());
  };
  feed(std::string_view(stream).substr(0, 10));
  auto none = decoder.Next();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  feed(std::string_view(stream).substr(10));
  auto first = decoder.Next();
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->body == "first");
  auto second = decoder.Next();
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK((*second)->header.request_id == 2);
  CHECK((*second)->body == "second");
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("frame decoder rejects an oversized length before the body arrives", "[ipc]") {
  FrameHeader header;
  header.length = kMaxFrameBody + 1;
  header.type = 1;
  FrameDecoder decoder;
  auto space = decoder.Prepare(kFrameHeaderSize);
  EncodeFrameHeader(header, space.data());
  decoder.Commit(kFrameHeaderSize);

  auto next = decoder.Next();
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().code() == Code::kInvalidArgument);
  CHECK(next.status().message().find("65537") != std::string::npos);
}

TEST_CASE("metrics registry renders Prometheus text with labels and histograms", "[ipc]") {
  MetricsRegistry metrics;
  metrics.Describe("signet_ipc_requests_total", "requests");
  metrics.AddCounter("signet_ipc_requests_total", {{"op", "health"}});
  metrics.AddCounter("signet_ipc_requests_total", {{"op", "health"}});
  metrics.Observe("signet_ipc_request_seconds", {{"op", "health"}}, 0.002);
  metrics.AddGauge("signet_ipc_requests_in_flight", {}, 3);

  std::string text = metrics.RenderPrometheus();
  CHECK(text.find("# HELP signet_ipc_requests_total requests\n") != std::string::npos);
  CHECK(text.find("# TYPE signet_ipc_requests_total counter\n") != std::string::npos);
  CHECK(text.find("signet_ipc_requests_total{op=\"health\"} 2\n") != std::string::npos);
  CHECK(text.find("signet_ipc_request_seconds_bucket{op=\"health\",le=\"0.001\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("signet_ipc_request_seconds_bucket{op=\"health\",le=\"0.0025\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("signet_ipc_request_seconds_count{op=\"health\"} 1\n") != std::string::npos);
  CHECK(text.find("signet_ipc_requests_in_flight 3\n") != std::string::npos);
}

TEST_CASE("metrics handles update the series found by name, from many threads at once", "[ipc]") {
  MetricsRegistry metrics;
  MetricsRegistry::Counter requests = metrics.CounterFor("requests_total", {{"op", "health"}});
  MetricsRegistry::Histogram seconds = metrics.HistogramFor("seconds", {{"op", "health"}});
  MetricsRegistry::Gauge depth = metrics.GaugeFor("depth", {});

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        requests.Add();
        seconds.Observe(0.002);
        depth.Add(1);
        depth.Add(-1);
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  metrics.AddCounter("requests_total", {{"op", "health"}}, 2);

  CHECK(metrics.Value("requests_total", {{"op", "health"}}) == 40002);
  CHECK(metrics.Value("depth", {}) == 0);
  std::string text = metrics.RenderPrometheus();
  CHECK(text.find("seconds_bucket{op=\"health\",le=\"0.0025\"} 40000\n") != std::string::npos);
  CHECK(text.find("seconds_count{op=\"health\"} 40000\n") != std::string::npos);
}

}  // namespace
}  // namespace signet::ipc
