#include "tools/common/toml_section.h"

#include <filesystem>
#include <sstream>

namespace signet {
namespace {

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date or time";
    default:
      return "nothing";
  }
}

}  // namespace

TomlSection::TomlSection(const toml::table& table, std::string file, std::string prefix,
                         std::string base_dir)
    : table_(&table),
      file_(std::move(file)),
      prefix_(std::move(prefix)),
      base_dir_(std::move(base_dir)) {}

StatusOr<toml::table> TomlSection::ParseFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status(Code::kNotFound, path + ": no such file");
  }
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Status(Code::kInvalidArgument, out.str());
  }
}

StatusOr<toml::table> TomlSection::ParseText(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Status(Code::kInvalidArgument, out.str());
  }
}

std::string TomlSection::KeyPath(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

Status TomlSection::Error(std::string_view key, std::string_view what) const {
  return Status(Code::kInvalidArgument, file_ + ": " + KeyPath(key) + ": " + std::string(what));
}

bool TomlSection::Has(std::string_view key) const {
  return table_->contains(key);
}

void TomlSection::Accept(std::string_view key) {
  seen_.emplace(key);
}

StatusOr<std::string> TomlSection::RequiredString(std::string_view key) {
  if (!Has(key)) {
    return Error(key, "is required");
  }
  return OptionalString(key);
}

StatusOr<std::string> TomlSection::OptionalString(std::string_view key, std::string fallback) {
  seen_.emplace(key);
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    return fallback;
  }
  if (!node->is_string()) {
    return Error(key, "expected a string, got " + std::string(TypeName(*node)));
  }
  std::string value = node->as_string()->get();
  if (value.empty()) {
    return Error(key, "must not be empty");
  }
  return value;
}

StatusOr<int64_t> TomlSection::OptionalInteger(std::string_view key, int64_t fallback, int64_t min,
                                               int64_t max) {
  seen_.emplace(key);
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    return fallback;
  }
  if (!node->is_integer()) {
    return Error(key, "expected an integer, got " + std::string(TypeName(*node)));
  }
  int64_t value = node->as_integer()->get();
  if (value < min || value > max) {
    return Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                          ", got " + std::to_string(value));
  }
  return value;
}

StatusOr<bool> TomlSection::OptionalBool(std::string_view key, bool fallback) {
  seen_.emplace(key);
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    return fallback;
  }
  if (!node->is_boolean()) {
    return Error(key, "expected true or false, got " + std::string(TypeName(*node)));
  }
  return node->as_boolean()->get();
}

StatusOr<std::vector<std::string>> TomlSection::OptionalStringArray(std::string_view key) {
  seen_.emplace(key);
  std::vector<std::string> out;
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    return out;
  }
  if (!node->is_array()) {
    return Error(key, "expected an array of strings, got " + std::string(TypeName(*node)));
  }
  const toml::array& array = *node->as_array();
  for (size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string() || array[i].as_string()->get().empty()) {
      return Error(std::string(key) + "[" + std::to_string(i) + "]", "expected a non-empty string");
    }
    out.push_back(array[i].as_string()->get());
  }
  return out;
}

std::string TomlSection::Resolve(std::string_view path) const {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir_.empty()) {
    return p.lexically_normal().string();
  }
  return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
}

StatusOr<std::string> TomlSection::RequiredPath(std::string_view key) {
  SIGNET_ASSIGN_OR_RETURN(std::string value, RequiredString(key));
  return Resolve(value);
}

StatusOr<std::string> TomlSection::OptionalPath(std::string_view key) {
  SIGNET_ASSIGN_OR_RETURN(std::string value, OptionalString(key));
  return value.empty() ? value : Resolve(value);
}

StatusOr<std::optional<TomlSection>> TomlSection::OptionalTable(std::string_view key) {
  seen_.emplace(key);
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    return std::optional<TomlSection>();
  }
  if (!node->is_table()) {
    return Error(key,
                 "expected a table ([" + KeyPath(key) + "]), got " + std::string(TypeName(*node)));
  }
  return std::optional<TomlSection>(TomlSection(*node->as_table(), file_, KeyPath(key), base_dir_));
}

StatusOr<std::vector<TomlSection>> TomlSection::TableArray(std::string_view key) {
  seen_.emplace(key);
  std::vector<TomlSection> out;
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    return out;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return Error(key, "expected an array of tables ([[" + KeyPath(key) + "]]), got " +
                          std::string(TypeName(*node)));
  }
  for (size_t i = 0; i < array->size(); ++i) {
    out.emplace_back(*(*array)[i].as_table(), file_, KeyPath(key) + "[" + std::to_string(i) + "]",
                     base_dir_);
  }
  return out;
}

Status TomlSection::CheckNoUnknownKeys() const {
  for (const auto& [key, node] : *table_) {
    if (seen_.find(key.str()) == seen_.end()) {
      return Error(key.str(), "unknown key; see docs/configuration.md for the keys accepted here");
    }
  }
  return OkStatus();
}

}  // namespace signet
