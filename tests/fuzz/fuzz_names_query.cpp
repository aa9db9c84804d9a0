// Percent-decoding, query strings, name checks and route matching: what a
// request's target goes through.
#include <dicomd/cpp/names.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/url.h"
#include "server/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (bool plus : {false, true})
    if (auto decoded = dicomd::http::percent_decode(input, plus)) {
      if (decoded->size() > input.size()) __builtin_trap();
      if (dicomd::is_valid_name(*decoded)) {  // a valid name can never climb out of a folder
        if (*decoded == "." || *decoded == ".." || decoded->find('/') != std::string::npos) __builtin_trap();
      }
      auto base = dicomd::base_name(*decoded);
      if (base.find('/') != std::string_view::npos || base.find('\\') != std::string_view::npos) __builtin_trap();
    }
  dicomd::http::parse_query(input);
  static const dicomd::Router<int> router = [] {
    dicomd::Router<int> r;
    r.add("GET", "/files/:study/:file/tag", "m", 1);
    r.add("GET", "/files/:study/:file", "s", 2);
    r.add("DELETE", "/files/:study", "s", 3);
    r.add("GET", "/files", "s", 4);
    return r;
  }();
  router.match("GET", input);
  return 0;
}
