#include "backends/slow_test/slow_test_backend.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <vector>

#include "signer/signature.h"

namespace signet {
namespace {

TEST_CASE("slow-test backend returns valid signatures from a key made on first load") {
  SlowTestBackend backend(SlowTestBackend::Options{std::chrono::microseconds(100), 4, 1});
  auto key = backend.LoadKey("slow-test:label=k1;alg=ES256");
  REQUIRE(key.ok());
  CHECK((*key)->ref() == "slow-test:label=k1;alg=ES256");

  SignRequest request{Bytes{'h', 'e', 'l', 'l', 'o'}, false, SignatureFormat::kRaw};
  StatusOr<Bytes> signature = (*key)->SignAndWait(request);
  REQUIRE(signature.ok());
  CHECK(VerifySignature((*key)->public_key(), Algorithm::kES256, request, *signature).ok());

  auto again = backend.LoadKey("slow-test:label=k1;alg=ES256");
  REQUIRE(again.ok());
  CHECK((*again)->public_key().spki_der == (*key)->public_key().spki_der);
  CHECK(backend.LoadKey("software:label=k1;alg=ES256").status().code() == Code::kInvalidArgument);
}

TEST_CASE("slow-test backend runs no more signatures at once than it has sessions") {
  // 2 sessions x 6 signatures of 30 ms each need at least 3 rounds: 90 ms. A lower bound only.
  SlowTestBackend backend(SlowTestBackend::Options{std::chrono::milliseconds(30), 2, 1});
  auto key = backend.LoadKey("slow-test:label=k2;alg=ES256");
  REQUIRE(key.ok());

  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<bool>> done;
  for (int i = 0; i < 6; ++i) {
    auto promise = std::make_shared<std::promise<bool>>();
    done.push_back(promise->get_future());
    (*key)->Sign(SignRequest{Bytes(32, 7), true, SignatureFormat::kDer},
                 [promise](StatusOr<Bytes> sig) { promise->set_value(sig.ok()); });
  }
  for (auto& result : done) {
    CHECK(result.get());
  }
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(90));
}

TEST_CASE("slow-test backend delivers held signatures when it is destroyed") {
  auto backend =
      std::make_unique<SlowTestBackend>(SlowTestBackend::Options{std::chrono::seconds(30), 1, 1});
  auto key = backend->LoadKey("slow-test:label=k3;alg=ES256");
  REQUIRE(key.ok());
  auto promise = std::make_shared<std::promise<bool>>();
  auto future = promise->get_future();
  (*key)->Sign(SignRequest{Bytes(32, 1), true, SignatureFormat::kRaw},
               [promise](StatusOr<Bytes> sig) { promise->set_value(sig.ok()); });
  backend.reset();  // must not wait 30 s
  REQUIRE(future.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(future.get());
}

}  // namespace
}  // namespace signet
