#include "scrub.h"

#include <array>
#include <cctype>

namespace dicomd::sentry {
namespace {

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// A token's characters: base64url, dots, and what opaque tokens use.
bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '+' || c == '/' ||
         c == '=' || c == '~';
}

// What a relative path's segment is made of: a '/' after one of these
// continues a name ("1/2", "b/c") rather than starting an absolute path.
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '~' || c == '/';
}

bool path_char(char c) {
  return !std::isspace(static_cast<unsigned char>(c)) && c != '"' && c != '\'' && c != ')' && c != ',' && c != ';' &&
         c != '>' && c != ']';
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

constexpr std::array<std::string_view, 8> kSecretNames = {"access_token", "token",  "password",      "passwd",
                                                          "secret",       "cookie", "authorization", "api_key"};

// At text[i], the length of a secret's name followed by '=' or ':' (and
// spaces), or 0.
size_t secret_assignment(std::string_view text, size_t i) {
  if (i > 0 && word_char(text[i - 1])) return 0;  // inside a longer word
  for (std::string_view name : kSecretNames) {
    if (!starts_with_ignoring_case(text.substr(i), name)) continue;
    size_t j = i + name.size();
    while (j < text.size() && text[j] == ' ') ++j;
    if (j < text.size() && (text[j] == '=' || text[j] == ':')) {
      ++j;
      while (j < text.size() && text[j] == ' ') ++j;
      return j - i;
    }
  }
  return 0;
}

}  // namespace

std::string scrub(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    std::string_view rest = text.substr(i);
    if (size_t n = secret_assignment(text, i)) {
      out.append(rest.substr(0, n));
      out += "[scrubbed]";
      i += n;
      // "Authorization: Bearer <token>": the scheme and its token both go.
      for (std::string_view scheme : {"bearer ", "basic ", "digest ", "token "})
        if (starts_with_ignoring_case(text.substr(i), scheme)) i += scheme.size();
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != '&' &&
             text[i] != ',' && text[i] != ';')
        ++i;
      continue;
    }
    if (starts_with_ignoring_case(rest, "bearer ") && (i == 0 || !word_char(text[i - 1]))) {
      out.append(rest.substr(0, 7));
      out += "[token]";
      i += 7;
      while (i < text.size() && token_char(text[i])) ++i;
      continue;
    }
    if (rest.starts_with("eyJ") && (i == 0 || !token_char(text[i - 1]))) {  // a JWT's header: {"
      size_t j = i;
      while (j < text.size() && token_char(text[j])) ++j;
      if (text.substr(i, j - i).find('.') != std::string_view::npos) {
        out += "[token]";
        i = j;
        continue;
      }
    }
    // An absolute path: '/' not after a name's character, followed by a
    // name and another '/' ("/var/lib/…", "(/tmp/x"); a lone "/" or
    // "/files" is kept (a route), as is "1/2".
    if (text[i] == '/' && (i == 0 || !name_char(text[i - 1]))) {
      size_t j = i + 1;
      while (j < text.size() && path_char(text[j])) ++j;
      while (j > i + 1 && (text[j - 1] == ':' || text[j - 1] == '.')) --j;  // "…/b.dcm: gone"
      std::string_view candidate = text.substr(i, j - i);
      if (candidate.find('/', 1) != std::string_view::npos && candidate.size() > 2) {
        out += "[path]";
        i = j;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace dicomd::sentry
