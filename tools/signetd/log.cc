#include "tools/signetd/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace signet::logf {
namespace {

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

spdlog::level::level_enum ParseLevel(std::string_view level) {
  if (level == "debug") {
    return spdlog::level::debug;
  }
  if (level == "warn") {
    return spdlog::level::warn;
  }
  if (level == "error") {
    return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("signetd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(ParseLevel(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void SetLogLevel(std::string_view level) {
  spdlog::default_logger()->set_level(ParseLevel(level));
}

std::string FormatValue(std::string_view value) {
  bool plain = !value.empty() && value.find_first_of(" \t\"=\n\r\\") == std::string_view::npos;
  if (plain) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void LogEvent(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  line.append(kEvent).append("=").append(FormatValue(event));
  for (const Field& field : fields) {
    line.append(" ").append(field.name).append("=").append(FormatValue(field.value));
  }
  spdlog::default_logger()->log(ToSpdlog(level), "{}", line);
}

}  // namespace signet::logf
