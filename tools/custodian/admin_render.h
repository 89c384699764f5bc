// How signetctl prints the answer to a custodian command: the JSON document itself with
// --json, otherwise a table made from it. The documents are listed in admin_service.h; the
// same rendering serves answers computed offline and answers received from signetd.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/value.hpp>

#include <iosfwd>

#include "ipc/request_handler.h"

namespace signet::custodian {

void RenderAdmin(ipc::pb::AdminCommand command, const boost::json::value& document, bool json,
                 std::ostream& out);

}  // namespace signet::custodian
