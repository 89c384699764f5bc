#include "ipc/request_handler.h"

#include <array>

namespace signet::ipc {

std::string_view OperationName(const pb::Request& request) {
  return OperationName(request.operation_case());
}

std::string_view OperationName(pb::Request::OperationCase operation) {
  switch (operation) {
    case pb::Request::kMintJwtSvid:
      return "mint_jwt_svid";
    case pb::Request::kMintAccessToken:
      return "mint_access_token";
    case pb::Request::kIssueX509Svid:
      return "issue_x509_svid";
    case pb::Request::kSignDigest:
      return "sign_digest";
    case pb::Request::kGetJwks:
      return "get_jwks";
    case pb::Request::kGetBundle:
      return "get_bundle";
    case pb::Request::kHealth:
      return "health";
    case pb::Request::kAdmin:
      return "admin";
    case pb::Request::OPERATION_NOT_SET:
      break;
  }
  return "unknown";
}

void SetError(const Status& status, pb::Error* error) {
  error->set_code(std::string(CodeName(status.code())));
  error->set_message(status.message());
}

pb::Response ErrorResponse(const Status& status) {
  pb::Response response;
  SetError(status, response.mutable_error());
  return response;
}

void ForEachError(const pb::Response& response,
                  const std::function<void(const pb::Error&)>& visit) {
  auto items = [&](const auto& results) {
    for (const auto& item : results) {
      if (item.has_error()) {
        visit(item.error());
      }
    }
  };
  switch (response.result_case()) {
    case pb::Response::kError:
      visit(response.error());
      break;
    case pb::Response::kMintJwtSvid:
      items(response.mint_jwt_svid().items());
      break;
    case pb::Response::kMintAccessToken:
      items(response.mint_access_token().items());
      break;
    case pb::Response::kIssueX509Svid:
      items(response.issue_x509_svid().items());
      break;
    case pb::Response::kSignDigest:
      items(response.sign_digest().items());
      break;
    default:
      break;
  }
}

Status StatusFromError(const pb::Error& error) {
  constexpr std::array kCodes = {
      Code::kInvalidArgument,    Code::kNotFound,      Code::kPermissionDenied, Code::kWrongPin,
      Code::kPinLocked,          Code::kUnavailable,   Code::kDeviceError,      Code::kUnsupported,
      Code::kFailedPrecondition, Code::kAlreadyExists, Code::kInternal};
  for (Code code : kCodes) {
    if (CodeName(code) == error.code()) {
      return Status(code, error.message());
    }
  }
  return Status(Code::kInternal, "unknown error code '" + error.code() + "': " + error.message());
}

}  // namespace signet::ipc
