// search: GET /search (API.md Part 3, "Search") over dicomd.index, whichever
// plugin provides it (index-sqlite, index-postgres). This side only turns the
// URL into the index's query JSON; the index checks every key and value.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>

namespace {

// The members of the index query that are not filters.
bool is_query_option(std::string_view name) {
  return name == "level" || name == "limit" || name == "offset" || name == "orderby" || name == "fuzzymatching";
}

class SearchPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "search";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "GET /search: stored files by their DICOM attributes";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_INDEX_SERVICE, 1, 0}};
  static void check_config(std::string_view config) { dicomd::PluginConfig(config).finish(); }
  static constexpr auto routes() {
    return std::array{dicomd_route{"GET", "/search", dicomd::route<&SearchPlugin::search>}};
  }

  static constexpr auto route_docs() {
    return std::array<const char*, 1>{
        R"json({"summary": "Find studies, series or instances by their DICOM attributes",
            "description": "Any search key (PatientID, PatientName, StudyDate, Modality, …: docs/api.md) as a query parameter, with DICOM matching: wildcards, ranges, UID lists. An unknown key is a 400 that lists the supported ones.",
            "parameters": [
              {"name": "level", "in": "query", "schema": {"type": "string", "enum": ["instance", "series", "study"]}},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000}},
              {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
              {"name": "orderby", "in": "query", "description": "Key,-Key", "schema": {"type": "string"}},
              {"name": "fuzzymatching", "in": "query", "schema": {"type": "boolean"}}],
            "responses": {"200": {"description": "{\"total\":N,\"results\":[…],…}",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"description": "a key, value or option it does not understand",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                          "503": {"description": "the index is unavailable"}}})json",
    };
  }

  SearchPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host), index_(host.acquire<dicomd_index_v1>(DICOMD_INDEX_SERVICE, 1)) {
    dicomd::PluginConfig(config).finish();
    if (!index_) throw std::runtime_error("no index service (enable index-sqlite or index-postgres)");
  }

  // GET /search?Key=value&...&level=&limit=&offset=&orderby=&fuzzymatching=
  void search(const dicomd::Request& req, dicomd::Response& res) {
    dicomd::JsonWriter query, filters;
    query.start_object();
    filters.start_object();
    // A repeated name stays repeated: the index refuses it.
    for (auto [name, value] : req.query_params()) (is_query_option(name) ? query : filters).key(name).string(value);
    filters.end_object();
    query.key("filters").raw(filters.text()).end_object();
    try {
      std::string answer = index_.search(query.text());
      res.json(200, "{\"success\":true," + answer.substr(1));
    } catch (const dicomd::ServiceError& e) {
      if (e.code != DICOMD_E_INVALID) throw;
      std::string refusal = e.what();  // {"error":...,"supported":[...]}
      res.json(400, refusal.substr(0, refusal.size() - 1) + ",\"success\":false}");
    }
  }

 private:
  dicomd::Index index_;
};

}  // namespace

DICOMD_PLUGIN(SearchPlugin)
