// GET /openapi.json: an OpenAPI 3.1 document of exactly the routes the
// dispatcher mounted, each with the operation its owner described (the
// plugin's route_docs, ABI 1.4; the host's own routes), completed by the
// host: path parameters, a default response, the owner as tag.
#pragma once

#include <string>

namespace dicomd {

class Dispatcher;

// ":study" segments become "{study}".
std::string openapi_path(const std::string& pattern);
// The document as JSON text. Problems with a plugin's description (not JSON,
// not an object) are logged once and that route gets the minimal operation.
std::string openapi_document(const Dispatcher& dispatcher);

}  // namespace dicomd
