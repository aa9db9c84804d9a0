// Incremental HTTP/1.x request parser. Pure (no I/O) so that it is unit-tested
// and fuzzed directly. Pistache 0.0.5's own parser cannot be used: it keeps
// only the first of repeated query parameters, reads bodies before checking
// Content-Length, ignores Expect: 100-continue and hangs on garbage request
// lines (see docs/http.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.h"

namespace dicomd::http {

struct ParserLimits {
  size_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 1024ull * 1024 * 1024;
};

class RequestParser {
 public:
  enum class Event {
    kNeedMore,  // feed more bytes
    kHead,      // the head is parsed (once per request): admit or refuse it; call next() again
    kContinue,  // headers done, client awaits "100 Continue"; call next() again
    kComplete,  // a whole request is ready: take() it
    kError,     // error_status()/error_message() say why; close after replying
  };

  explicit RequestParser(ParserLimits limits) : limits_(limits) {}

  // Buffers bytes received from the peer.
  void feed(std::string_view bytes);
  // Advances the state machine over what has been fed.
  Event next();
  // The completed request; the parser then starts on the next (pipelined) one.
  Request take();

  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  // True while a request has started but not completed.
  bool in_progress() const { return phase_ == Phase::kBody || !pending_.empty(); }
  // A head has begun and is not complete yet.
  bool in_head() const { return phase_ == Phase::kHead && !pending_.empty(); }
  // A body is being received.
  bool in_body() const { return phase_ == Phase::kBody; }
  uint64_t body_received() const { return request_.body.size(); }
  // Bytes fed and not yet consumed (the head being parsed, or what a client
  // pipelined behind the request being answered).
  size_t buffered() const { return pending_.size(); }
  uint64_t declared_body_bytes() const { return body_expected_; }

  // While a body is being read and nothing else is buffered: lets
  // `receive(char* into, size_t max)` (returning the bytes written, 0 when
  // none are available now) write body bytes straight into the request, in
  // large chunks, with no intermediate buffer. Returns the bytes received.
  template <class Receive>
  size_t receive_body(Receive&& receive) {
    size_t total = 0;
    if (phase_ == Phase::kBody && pending_.empty() && request_.body.capacity() < body_expected_)
      request_.body.reserve(static_cast<size_t>(body_expected_));
    while (phase_ == Phase::kBody && pending_.empty() && request_.body.size() < body_expected_) {
      size_t old = request_.body.size();
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(body_expected_ - old, kReceiveChunk));
      request_.body.resize(old + chunk);
      size_t got = receive(request_.body.data() + old, chunk);
      request_.body.resize(old + got);
      total += got;
      if (got < chunk) break;
    }
    return total;
  }
  // The head of the request being parsed (valid after kHead).
  const Request& head() const { return request_; }

 private:
  enum class Phase { kHead, kBody, kDone, kFailed };

  Event parse_head();
  Event fail(int status, std::string message);
  bool parse_request_line(std::string_view line);
  bool parse_header_line(std::string_view line);
  Event finish_head();
  void move_pending_into_body();

  static constexpr size_t kReceiveChunk = 256 * 1024;
  ParserLimits limits_;
  Phase phase_ = Phase::kHead;
  std::string pending_;  // bytes not yet consumed (head, or next request)
  size_t scanned_ = 0;   // how far pending_ was searched for the head's end
  Request request_;
  uint64_t body_expected_ = 0;
  bool continue_sent_ = false;
  bool head_reported_ = false;
  bool expect_continue_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace dicomd::http
