// TomlSection: reads one table of a TOML config file with errors a person can act on.
//
// Every error names the file, the dotted key and what is wrong:
//   "var/signetd.toml: ipc.listen: expected a string like 127.0.0.1:7443, got an integer".
// A section remembers which keys were read, so CheckNoUnknownKeys() reports a misspelt or
// unsupported key instead of silently ignoring it. Relative paths are resolved against the
// directory of the config file, so a state directory can be moved as a whole.
//
// Lifetime: a section points into a toml::table owned by the caller, which must outlive it.
// Thread safety: none; one reader at a time.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "signer/status.h"

namespace signet {

class TomlSection {
 public:
  // `file` is the config path as the user gave it, `prefix` the dotted path of this table
  // ("" for the root), `base_dir` the directory relative paths are resolved against.
  TomlSection(const toml::table& table, std::string file, std::string prefix, std::string base_dir);

  // Parses a file; the error names the file and the line and column of a syntax error.
  static StatusOr<toml::table> ParseFile(const std::string& path);

  // Parses text read from `file` (used only to name it in errors).
  static StatusOr<toml::table> ParseText(std::string_view text, const std::string& file);

  // "prefix.key", or "key" at the root.
  std::string KeyPath(std::string_view key) const;

  // kInvalidArgument: "<file>: <prefix.key>: <what>".
  Status Error(std::string_view key, std::string_view what) const;

  bool Has(std::string_view key) const;

  // Marks a key as known without reading it (for keys another component reads).
  void Accept(std::string_view key);

  StatusOr<std::string> RequiredString(std::string_view key);
  StatusOr<std::string> OptionalString(std::string_view key, std::string fallback = "");
  StatusOr<int64_t> OptionalInteger(std::string_view key, int64_t fallback, int64_t min,
                                    int64_t max);
  StatusOr<bool> OptionalBool(std::string_view key, bool fallback);
  StatusOr<std::vector<std::string>> OptionalStringArray(std::string_view key);

  // A path resolved against the config file's directory; "" when absent and not required.
  StatusOr<std::string> RequiredPath(std::string_view key);
  StatusOr<std::string> OptionalPath(std::string_view key);

  // A sub-table; nullopt when absent.
  StatusOr<std::optional<TomlSection>> OptionalTable(std::string_view key);

  // An array of tables ([[key]]); empty when absent.
  StatusOr<std::vector<TomlSection>> TableArray(std::string_view key);

  // Fails naming the first key that was neither read nor accepted.
  Status CheckNoUnknownKeys() const;

  const std::string& file() const { return file_; }
  const std::string& base_dir() const { return base_dir_; }
  const toml::table& table() const { return *table_; }

  // Resolves `path` against base_dir() unless it is absolute.
  std::string Resolve(std::string_view path) const;

 private:
  const toml::table* table_;
  std::string file_;
  std::string prefix_;
  std::string base_dir_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace signet
