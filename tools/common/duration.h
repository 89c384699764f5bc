// Durations as people type them on a command line or in a config file: "90s", "5m", "1h",
// "1h30m".
//
// The grammar is strict on purpose: one or more groups of a positive decimal number and a
// unit (h, m or s), units in that order and each at most once. No spaces, signs, fractions
// or bare numbers, so "5" (seconds? minutes?) is refused rather than guessed. Errors name the
// value given and show what is accepted.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "signer/status.h"

namespace signet {

// Parses a duration; `what` names the option or key in the error ("--ttl", "ipc.timeout").
// Fails with kInvalidArgument for an empty, zero, malformed or absurdly long (> 10 years)
// value.
StatusOr<std::chrono::seconds> ParseDuration(std::string_view text, std::string_view what);

// The shortest form ParseDuration reads back: 90 -> "1m30s", 3600 -> "1h".
std::string FormatDuration(std::chrono::seconds value);

}  // namespace signet
