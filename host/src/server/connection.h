// One client connection's state, and the socket calls made on it. Every
// field is guarded by `mutex`: input arrives on a reactor thread, replies
// complete on handler and reactor threads. Pistache owns the socket; `fd`
// is ours to use only while `closed` is false.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <pistache/peer.h>

#include "http/request_parser.h"
#include "http/response.h"
#include "server/admission.h"
#include "server/thread_annotations.h"

namespace dicomd {

using Clock = std::chrono::steady_clock;

// A file body being sent: [next, end) of `file` is still to go.
struct FileStream {
  std::shared_ptr<const http::FileBody> file;
  uint64_t next = 0, end = 0;
  bool keep_alive = true;
};

struct Connection {
  explicit Connection(http::ParserLimits limits) : parser(limits) {}
  Mutex mutex;
  std::weak_ptr<Pistache::Tcp::Peer> peer;  // set once, before the connection is shared
  int fd = -1;                              // likewise
  std::string client;                       // the peer's address; likewise
  http::RequestParser parser DICOMD_GUARDED_BY(mutex);
  bool busy DICOMD_GUARDED_BY(mutex) = false;        // a request is being handled; later ones wait (pipelining)
  bool closing DICOMD_GUARDED_BY(mutex) = false;     // a final reply was sent; input is discarded
  bool closed DICOMD_GUARDED_BY(mutex) = false;      // Pistache reported the disconnection; fd is not ours
  bool dropped DICOMD_GUARDED_BY(mutex) = false;     // we shut it down (hard_close): nothing more is answered
  Reservation reservation DICOMD_GUARDED_BY(mutex);  // body memory admitted for the current request
  int queued_writes DICOMD_GUARDED_BY(mutex) = 0;    // writes handed to Pistache's queue, not yet settled
  Clock::time_point last_activity DICOMD_GUARDED_BY(mutex) = Clock::now();
  Clock::time_point head_started DICOMD_GUARDED_BY(mutex) = Clock::now();    // first byte of the head being read
  Clock::time_point body_started DICOMD_GUARDED_BY(mutex) = Clock::now();    // when its head was admitted
  Clock::time_point write_deadline DICOMD_GUARDED_BY(mutex) = Clock::now();  // queued reply bytes must be out by then
  std::optional<FileStream> stream DICOMD_GUARDED_BY(mutex);                 // a file body still being sent
};

// Shuts the socket down so that Pistache sees the end and closes it.
void hard_close(Connection& c) DICOMD_REQUIRES(c.mutex);
// Ends our side after the reply; the client closes, Pistache then closes.
void graceful_close(Connection& c) DICOMD_REQUIRES(c.mutex);
// Bytes of head + body written without blocking, or SIZE_MAX when the
// socket failed (the peer is gone).
size_t send_now(Connection& c, std::string_view head, std::string_view body) DICOMD_REQUIRES(c.mutex);
// Reads body bytes straight into the parser (after Pistache's first 4 KiB).
size_t receive_body_now(Connection& c) DICOMD_REQUIRES(c.mutex);

}  // namespace dicomd
