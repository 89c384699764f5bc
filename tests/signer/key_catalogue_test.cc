// The key catalogue's JSON form and its file store, including a crash mid-write.
#include "signer/key_catalogue.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "signer/atomic_file.h"
#include "tests/support/openssl_cli.h"

namespace signet::testing {
namespace {

KeyRecord SampleRecord(int i) {
  KeyRecord k;
  k.kid = "jwt-" + std::to_string(i);
  k.purpose = Purpose::kJwt;
  k.algorithm = Algorithm::kES256;
  k.backend = "pkcs11";
  k.backend_ref = "pkcs11:token=t;object=jwt-" + std::to_string(i) + ";type=private";
  k.spki_der = Bytes(91, static_cast<uint8_t>(i));
  k.state = KeyState::kRetired;
  k.not_after = FromUnixSeconds(1767225600 + i);
  k.latest_signed_expiry = FromUnixSeconds(1767229200 + i);
  k.history = {{KeyState::kPrepared, FromUnixSeconds(1767225600), "alice", "requested"},
               {KeyState::kActive, FromUnixSeconds(1767225700), "signet/rotation", ""},
               {KeyState::kRetired, FromUnixSeconds(1767225800), "bob", "compromise"}};
  return k;
}

Catalogue SampleCatalogue(int n) {
  Catalogue c;
  for (int i = 0; i < n; ++i) {
    c.keys.push_back(SampleRecord(i));
  }
  KeyRecord ca = SampleRecord(n);
  ca.kid = "x509-ca-intermediate-1";
  ca.purpose = Purpose::kX509Ca;
  ca.ca_role = CaRole::kIntermediate;
  ca.cert_der = Bytes(300, 7);
  ca.issuer = "x509-ca-root-1";
  ca.latest_signed_expiry.reset();
  c.keys.push_back(ca);
  return c;
}

TEST_CASE("catalogue round-trips through its file store", "[lifecycle]") {
  TempDir dir;
  FileCatalogueStore store(dir.path());
  auto empty = store.Load();
  REQUIRE(empty.ok());
  CHECK(empty->version == 0);
  CHECK(empty->keys.empty());

  Catalogue c = SampleCatalogue(3);
  REQUIRE(store.CompareAndSwap(0, c).ok());
  CHECK(c.version == 1);

  auto loaded = store.Load();
  REQUIRE(loaded.ok());
  CHECK(loaded->version == 1);
  CHECK(CatalogueToJson(*loaded) == CatalogueToJson(c));
  const KeyRecord* k = loaded->Find("jwt-1");
  REQUIRE(k != nullptr);
  CHECK(k->history.size() == 3);
  CHECK(k->history[2].reason == "compromise");
  CHECK(k->TimeOf(KeyState::kActive) == FromUnixSeconds(1767225700));
  CHECK(loaded->Find("x509-ca-intermediate-1")->ca_role == CaRole::kIntermediate);
  CHECK(loaded->Find("x509-ca-intermediate-1")->cert_der == Bytes(300, 7));
  CHECK((std::filesystem::status(store.path()).permissions() &
         std::filesystem::perms::others_read) == std::filesystem::perms::none);
}

TEST_CASE("catalogue store refuses a save based on a stale version", "[lifecycle]") {
  TempDir dir;
  FileCatalogueStore a(dir.path());
  FileCatalogueStore b(dir.path());
  Catalogue first = SampleCatalogue(1);
  REQUIRE(a.CompareAndSwap(0, first).ok());

  Catalogue stale = SampleCatalogue(2);
  Status refused = b.CompareAndSwap(0, stale);
  CHECK(refused.code() == Code::kFailedPrecondition);
  CHECK(refused.message().find("version 1, expected 0") != std::string::npos);
  CHECK(a.Load()->keys.size() == 2);  // one record plus the CA record: the first save stands
}

TEST_CASE("catalogue parsing names the bad field", "[lifecycle]") {
  std::string json = CatalogueToJson(SampleCatalogue(2));
  std::string bad = json;
  bad.replace(bad.find("\"retired\""), 9, "\"retird\"");
  auto parsed = CatalogueFromJson(bad, "catalogue.json");
  REQUIRE(!parsed.ok());
  CHECK(parsed.status().message().find("catalogue.json.keys[0].state") != std::string::npos);

  auto torn = CatalogueFromJson(json.substr(0, json.size() / 2), "catalogue.json");
  REQUIRE(!torn.ok());
  CHECK(torn.status().message().find("not JSON") != std::string::npos);
}

TEST_CASE("a crash while writing catalogues leaves a loadable catalogue", "[lifecycle]") {
  TempDir dir;
  {
    FileCatalogueStore store(dir.path());
    Catalogue seed = SampleCatalogue(1);
    REQUIRE(store.CompareAndSwap(0, seed).ok());
  }

  for (int round = 0; round < 5; ++round) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // Rewrites ever larger catalogues as fast as it can until killed.
      FileCatalogueStore store(dir.path());
      for (int i = 0;; ++i) {
        StatusOr<Catalogue> c = store.Load();
        if (!c.ok()) {
          ::_exit(3);
        }
        Catalogue next = SampleCatalogue(1 + i % 40);
        if (!store.CompareAndSwap(c->version, next).ok()) {
          ::_exit(4);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60 + 25 * round));
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));  // it was still writing when killed

    FileCatalogueStore store(dir.path());
    StatusOr<Catalogue> loaded = store.Load();
    INFO(loaded.status().ToString());
    REQUIRE(loaded.ok());
    CHECK(loaded->version > 1);
    CHECK(!loaded->keys.empty());
  }
}

TEST_CASE("atomic write replaces a file and leaves no temporary behind", "[lifecycle]") {
  TempDir dir;
  std::string path = dir.path() + "/f.json";
  REQUIRE(WriteFileAtomically(path, "one").ok());
  REQUIRE(WriteFileAtomically(path, "two").ok());
  CHECK(**ReadFileIfExists(path) == "two");
  CHECK(!ReadFileIfExists(dir.path() + "/absent")->has_value());
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
  }
  CHECK(files == 1);
  CHECK(WriteFileAtomically(dir.path() + "/no/such/dir/f", "x").message().find("open(") !=
        std::string::npos);
}

}  // namespace
}  // namespace signet::testing
