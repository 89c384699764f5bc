// The seam between the backend conformance suite and one backend.
//
// The suite (conformance_suite.cc) holds the test cases; each backend's test
// executable links the suite with its own MakeBackendFixture(), which builds a
// fresh backend in a fresh place (a temporary directory, a new SoftHSM token, a
// new swtpm) for every test case. A fixture that cannot reach its device fails
// the test loudly; it never skips.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "signer/backend.h"

namespace signet::testing {

class BackendFixture {
 public:
  virtual ~BackendFixture() = default;

  virtual Backend& backend() = 0;

  // Algorithms this backend must generate and sign with.
  virtual std::vector<Algorithm> algorithms() const = 0;

  // A syntactically valid reference to a key that does not exist.
  virtual std::string MissingKeyRef() const = 0;
};

// Defined once per backend test executable.
std::unique_ptr<BackendFixture> MakeBackendFixture();

}  // namespace signet::testing
