#include "http/request_parser.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "http/text.h"

namespace dicomd::http {
namespace {

// A control character other than tab, or DEL, anywhere in a header value.
// Bitwise operations and no early exit, so that the compiler vectorises
// the loop: a bearer token is hundreds of bytes on every request, and the
// byte-at-a-time check was most of the cost of parsing such a head.
bool has_control_char(std::string_view value) {
  unsigned bad = 0;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned>(u < 0x20) & static_cast<unsigned>(u != '\t');
    bad |= static_cast<unsigned>(u == 0x7f);
  }
  return bad != 0;
}

// RFC 9110 tchar, as a table: this runs for every byte of every method and
// header name.
constexpr auto kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
bool is_token_char(unsigned char c) {
  return kTokenChars[c];
}

// Parses a Content-Length value: digits only, no sign, no overflow.
bool parse_length(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

bool contains_token(std::string_view list, std::string_view token) {
  std::string l = lower(list);
  size_t pos = 0;
  while (pos <= l.size()) {
    size_t comma = l.find(',', pos);
    if (comma == std::string::npos) comma = l.size();
    if (trim(std::string_view(l).substr(pos, comma - pos)) == token) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

void RequestParser::feed(std::string_view bytes) {
  if (phase_ == Phase::kBody) {
    uint64_t missing = body_expected_ - request_.body.size();
    size_t take = static_cast<size_t>(std::min<uint64_t>(missing, bytes.size()));
    request_.body.append(bytes.data(), take);
    bytes.remove_prefix(take);
  }
  pending_.append(bytes.data(), bytes.size());
}

RequestParser::Event RequestParser::fail(int status, std::string message) {
  phase_ = Phase::kFailed;
  error_status_ = status;
  error_message_ = std::move(message);
  return Event::kError;
}

RequestParser::Event RequestParser::next() {
  switch (phase_) {
    case Phase::kFailed:
      return Event::kError;
    case Phase::kDone:
      return Event::kComplete;
    case Phase::kHead:
      return parse_head();
    case Phase::kBody:
      break;
  }
  if (!head_reported_) {
    head_reported_ = true;
    return Event::kHead;
  }
  if (request_.body.size() == body_expected_) {
    phase_ = Phase::kDone;
    return Event::kComplete;
  }
  if (expect_continue_ && !continue_sent_) {
    continue_sent_ = true;
    return Event::kContinue;
  }
  return Event::kNeedMore;
}

RequestParser::Event RequestParser::parse_head() {
  // Blank lines before a request line are allowed (RFC 9112 2.2).
  size_t skip = 0;
  while (skip < pending_.size() && (pending_[skip] == '\r' || pending_[skip] == '\n')) ++skip;
  if (skip) {
    pending_.erase(0, skip);
    scanned_ = 0;
  }
  if (pending_.empty()) return Event::kNeedMore;
  // Reject garbage as soon as the first bytes show it is not a method, rather
  // than waiting for a header timeout.
  if (!is_token_char(static_cast<unsigned char>(pending_[0]))) return fail(400, "malformed request line");

  // Lines end in CRLF, or in a bare LF as netcat and some embedded clients
  // send (RFC 9112 2.2 lets a recipient accept it): the head ends at the
  // first empty line either way.
  size_t from = scanned_ > 2 ? scanned_ - 2 : 0;
  size_t end = std::string::npos, terminator = 0;
  for (size_t lf = pending_.find('\n', from); lf != std::string::npos; lf = pending_.find('\n', lf + 1)) {
    if (lf + 1 < pending_.size() && pending_[lf + 1] == '\n') {
      end = lf, terminator = 2;
      break;
    }
    if (lf + 2 < pending_.size() && pending_[lf + 1] == '\r' && pending_[lf + 2] == '\n') {
      end = lf, terminator = 3;
      break;
    }
  }
  size_t line_end = pending_.find('\n');
  if (line_end != std::string::npos && !parse_request_line(std::string_view(pending_).substr(0, line_end)))
    return fail(400, "malformed request line");
  if (end == std::string::npos) {
    scanned_ = pending_.size();
    if (pending_.size() > limits_.max_header_bytes) return fail(431, "request header fields too large");
    return Event::kNeedMore;
  }
  if (end + terminator > limits_.max_header_bytes) return fail(431, "request header fields too large");

  // head: every line of the head, each ending in '\n' ('\r' stripped below).
  std::string_view head(pending_.data(), end + 1);
  size_t pos = head.find('\n');
  if (!parse_request_line(head.substr(0, pos))) return fail(400, "malformed request line");
  for (size_t start = pos + 1; start < head.size(); start = pos + 1) {
    pos = head.find('\n', start);
    std::string_view line = head.substr(start, pos - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!parse_header_line(line)) return fail(400, "malformed header line");
  }
  pending_.erase(0, end + terminator);
  scanned_ = 0;
  return finish_head();
}

bool RequestParser::parse_request_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : method)
    if (!is_token_char(static_cast<unsigned char>(c))) return false;
  if (target.empty() || target[0] != '/') return false;
  unsigned bad = 0;  // bitwise and no early exit, as in has_control_char: vectorised
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned>(u <= 0x20) | static_cast<unsigned>(u == 0x7f);
  }
  if (bad) return false;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return false;
  request_.method = std::string(method);
  size_t q = target.find('?');
  request_.path = std::string(target.substr(0, q));
  request_.raw_query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  size_t hash = request_.raw_query.find('#');
  if (hash != std::string::npos) request_.raw_query.resize(hash);
  request_.minor_version = version.back() - '0';
  return true;
}

bool RequestParser::parse_header_line(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view name = line.substr(0, colon);
  for (char c : name)
    if (!is_token_char(static_cast<unsigned char>(c))) return false;  // also rejects obs-fold
  std::string_view value = trim(line.substr(colon + 1));
  if (has_control_char(value)) return false;
  request_.headers.emplace_back(lower(name), std::string(value));
  return true;
}

RequestParser::Event RequestParser::finish_head() {
  const std::string* length = nullptr;
  bool has_transfer_encoding = false;
  int hosts = 0, content_types = 0;
  for (const auto& [name, value] : request_.headers) {
    if (name == "content-length") {
      if (length) return fail(400, "duplicate Content-Length header");
      length = &value;
    } else if (name == "transfer-encoding") {
      has_transfer_encoding = true;
    } else if (name == "host") {
      ++hosts;
    } else if (name == "content-type") {
      ++content_types;
    }
  }
  if (has_transfer_encoding) return fail(411, "Transfer-Encoding is not supported; send a Content-Length");
  body_expected_ = 0;
  if (length && !parse_length(*length, body_expected_)) return fail(400, "invalid Content-Length header");
  if (body_expected_ > limits_.max_body_bytes) return fail(413, "request body too large");
  // One value each, or components would read different ones (the multipart
  // parser took the last Content-Type, plugins the first). HTTP/1.1 needs a
  // Host (RFC 9112 3.2); checked after the length so that 413 and 411 stay
  // the answers to bodies refused for their size or framing.
  if (content_types > 1) return fail(400, "duplicate Content-Type header");
  if (hosts > 1) return fail(400, "duplicate Host header");
  if (hosts == 0 && request_.minor_version >= 1) return fail(400, "missing Host header (HTTP/1.1 requires one)");

  const std::string* connection = request_.header("connection");
  if (request_.minor_version == 0)
    request_.keep_alive = connection && contains_token(*connection, "keep-alive");
  else
    request_.keep_alive = !(connection && contains_token(*connection, "close"));
  const std::string* expect = request_.header("expect");
  expect_continue_ = expect && lower(*expect) == "100-continue" && request_.minor_version == 1;
  continue_sent_ = false;
  head_reported_ = false;

  // Reserve up to 64 MiB now; a client that declares more but sends slowly
  // only grows the buffer as bytes really arrive.
  request_.body.reserve(static_cast<size_t>(std::min<uint64_t>(body_expected_, 64ull << 20)));
  phase_ = Phase::kBody;
  move_pending_into_body();
  return next();
}

void RequestParser::move_pending_into_body() {
  uint64_t missing = body_expected_ - request_.body.size();
  size_t take = static_cast<size_t>(std::min<uint64_t>(missing, pending_.size()));
  request_.body.append(pending_, 0, take);
  pending_.erase(0, take);
}

Request RequestParser::take() {
  Request out = std::move(request_);
  request_ = Request();
  phase_ = Phase::kHead;
  body_expected_ = 0;
  expect_continue_ = false;
  head_reported_ = false;
  return out;
}

}  // namespace dicomd::http
