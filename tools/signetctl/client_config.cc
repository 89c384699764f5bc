#include "tools/signetctl/client_config.h"

#include <filesystem>

#include "tools/common/duration.h"
#include "tools/common/toml_section.h"

namespace signet {

StatusOr<ClientConfig> LoadClientConfig(const std::string& path) {
  SIGNET_ASSIGN_OR_RETURN(toml::table table, TomlSection::ParseFile(path));
  TomlSection root(table, path, "", std::filesystem::path(path).parent_path().string());

  ClientConfig config;
  config.path = path;
  SIGNET_ASSIGN_OR_RETURN(std::vector<std::string> endpoints,
                          root.OptionalStringArray("endpoints"));
  if (endpoints.empty()) {
    return root.Error("endpoints", "is required: a list like [\"127.0.0.1:7443\"]");
  }
  for (const std::string& endpoint : endpoints) {
    constexpr std::string_view kUnix = "unix:";
    if (endpoint.rfind(kUnix, 0) == 0) {
      config.endpoints.push_back("unix:" + root.Resolve(endpoint.substr(kUnix.size())));
    } else {
      config.endpoints.push_back(endpoint);
    }
  }
  SIGNET_ASSIGN_OR_RETURN(config.certificate, root.RequiredPath("certificate"));
  SIGNET_ASSIGN_OR_RETURN(config.private_key, root.RequiredPath("private_key"));
  SIGNET_ASSIGN_OR_RETURN(config.ca, root.RequiredPath("ca"));
  SIGNET_ASSIGN_OR_RETURN(config.server_name, root.OptionalString("server_name"));
  SIGNET_ASSIGN_OR_RETURN(std::string timeout, root.OptionalString("timeout"));
  if (!timeout.empty()) {
    SIGNET_ASSIGN_OR_RETURN(config.timeout, ParseDuration(timeout, path + ": timeout"));
  }
  SIGNET_RETURN_IF_ERROR(root.CheckNoUnknownKeys());
  return config;
}

}  // namespace signet
