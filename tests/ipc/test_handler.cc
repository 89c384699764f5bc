#include "tests/ipc/test_handler.h"

#include <random>
#include <stdexcept>

#include "signer/bytes.h"

namespace signet::testing {

TestHandler::TestHandler(Options options)
    : options_(options), backend_(SoftwareBackend::Options{"", 2, 64}), holding_(options.hold) {
  auto key = backend_.GenerateKey(KeySpec{Algorithm::kES256, 2048, "ipc-test", Purpose::kJwt});
  if (!key.ok()) {
    throw std::runtime_error("test key: " + key.status().ToString());
  }
  key_ = *key;
  timer_thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_ || !timed_.empty()) {
      if (timed_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto first = timed_.begin();
      if (first->first > std::chrono::steady_clock::now() && !stopping_) {
        wake_.wait_until(lock, first->first);
        continue;
      }
      auto work = std::move(first->second);
      timed_.erase(first);
      lock.unlock();
      work();
      lock.lock();
    }
  });
}

TestHandler::~TestHandler() {
  Release();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  timer_thread_.join();
}

void TestHandler::Release() {
  std::vector<std::function<void()>> held;
  {
    std::lock_guard lock(mu_);
    holding_ = false;
    held.swap(held_);
  }
  for (auto& work : held) {
    work();
  }
}

void TestHandler::Later(std::function<void()> work, int delay_ms) {
  std::lock_guard lock(mu_);
  timed_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms),
                 std::move(work));
  wake_.notify_all();
}

void TestHandler::Handle(const ipc::Caller& caller, ipc::pb::Request request,
                         ipc::ResponseCallback done) {
  received_ += 1;
  size_t now = ++outstanding_;
  size_t seen = max_outstanding_.load();
  while (now > seen && !max_outstanding_.compare_exchange_weak(seen, now)) {
  }

  auto work = [this, caller, request = std::move(request), done = std::move(done)]() mutable {
    Answer(caller, std::move(request), std::move(done));
  };
  {
    std::lock_guard lock(mu_);
    if (holding_) {
      held_.push_back(std::move(work));
      return;
    }
  }
  if (options_.max_delay_ms > 0) {
    thread_local std::mt19937 random(std::random_device{}());
    Later(std::move(work), std::uniform_int_distribution<int>(0, options_.max_delay_ms)(random));
    return;
  }
  work();
}

void TestHandler::Finish(ipc::ResponseCallback& done, ipc::pb::Response response) {
  --outstanding_;
  done(std::move(response));
}

void TestHandler::Answer(const ipc::Caller& caller, ipc::pb::Request request,
                         ipc::ResponseCallback done) {
  ipc::pb::Response response;
  switch (request.operation_case()) {
    case ipc::pb::Request::kSignDigest: {
      // One item only in this test handler; the signature comes from the backend thread.
      const auto& item = request.sign_digest().items(0);
      SignRequest sign{Bytes(item.digest().begin(), item.digest().end()), true,
                       item.encoding() == ipc::pb::SIGNATURE_ENCODING_DER ? SignatureFormat::kDer
                                                                          : SignatureFormat::kRaw};
      std::string key_id = item.key_name();
      key_->Sign(std::move(sign), [this, key_id, done](StatusOr<Bytes> signature) mutable {
        ipc::pb::Response answer;
        auto* result = answer.mutable_sign_digest()->add_items();
        if (signature.ok()) {
          result->mutable_signature()->set_signature(std::string(AsText(*signature)));
          result->mutable_signature()->set_key_name(key_id);
          result->mutable_signature()->set_algorithm("ES256");
        } else {
          ipc::SetError(signature.status(), result->mutable_error());
        }
        Finish(done, std::move(answer));
      });
      return;
    }
    case ipc::pb::Request::kMintJwtSvid:
      for (const auto& item : request.mint_jwt_svid().items()) {
        auto* result = response.mutable_mint_jwt_svid()->add_items();
        if (item.audience().empty()) {
          ipc::SetError(Status(Code::kInvalidArgument, "no audience"), result->mutable_error());
          continue;
        }
        std::string header =
            Base64UrlEncode(AsBytes(R"({"alg":"ES256","kid":"ipc-test","typ":"JWT"})"));
        std::string claims = Base64UrlEncode(AsBytes(R"({"sub":")" + item.spiffe_id() +
                                                     R"(","aud":")" + item.audience(0) + R"("})"));
        std::string input = header + "." + claims;
        auto signature = key_->SignAndWait(SignRequest{Bytes(input.begin(), input.end())});
        result->mutable_svid()->set_token(input + "." + Base64UrlEncode(*signature));
        result->mutable_svid()->set_key_id("ipc-test");
      }
      break;
    case ipc::pb::Request::kMintAccessToken:
      for (const auto& item : request.mint_access_token().items()) {
        std::string chain;
        for (const auto& actor : item.actors()) {
          chain += "<" + actor.subject();
        }
        auto* token = response.mutable_mint_access_token()->add_items()->mutable_token();
        token->set_token("at:" + item.subject() + chain);
        token->set_jti("jti-1");
      }
      break;
    case ipc::pb::Request::kIssueX509Svid:
      for (const auto& item : request.issue_x509_svid().items()) {
        auto* svid = response.mutable_issue_x509_svid()->add_items()->mutable_svid();
        svid->set_certificate_der(item.csr());
        svid->set_serial_hex("01");
      }
      break;
    case ipc::pb::Request::kGetJwks:
      response.mutable_get_jwks()->set_jwks_json(R"({"keys":[]})");
      break;
    case ipc::pb::Request::kGetBundle:
      response.mutable_get_bundle()->set_bundle_json(R"({"keys":[],"spiffe_sequence":1})");
      break;
    case ipc::pb::Request::kHealth:
      response.mutable_health()->set_status(ipc::pb::HealthResponse::SERVING);
      response.mutable_health()->set_detail(caller.spiffe_id);
      break;
    default:
      response = ipc::ErrorResponse(Status(Code::kUnsupported, "test handler"));
  }
  Finish(done, std::move(response));
}

}  // namespace signet::testing
