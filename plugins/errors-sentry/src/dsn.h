// A Sentry DSN ("https://PUBLIC_KEY@o1.ingest.sentry.io/42", or with a
// path and port for a self-hosted Sentry or GlitchTip:
// "http://key@sentry.example:9000/sentry/7") and what it gives: the
// envelope endpoint and the X-Sentry-Auth header.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace dicomd::sentry {

struct DsnError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct Dsn {
  std::string scheme;      // "http" or "https"
  std::string public_key;  // the DSN's user name
  std::string secret_key;  // its password: legacy, usually empty
  std::string host;        // with ":port" when given
  std::string path;        // "" or "/sentry": before the project id
  std::string project_id;  // digits

  // SCHEME://HOST/PATH/api/PROJECT_ID/envelope/
  std::string envelope_url() const;
  // "Sentry sentry_version=7, sentry_client=CLIENT, sentry_key=KEY"
  std::string auth_header(std::string_view client) const;
  // The DSN again, without the secret (the envelope header's "dsn").
  std::string public_text() const;
};

// Throws DsnError naming what is wrong.
Dsn parse_dsn(std::string_view text);

}  // namespace dicomd::sentry
