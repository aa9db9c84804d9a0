// A collector for benchmarks: accepts error events and trace batches on
// 127.0.0.1 (tests/support/http_receiver.h, bodies counted, not kept),
// answers 200, prints its port, and at SIGTERM or SIGINT prints
// {"requests":N,"bytes":B}.
#include <signal.h>

#include <cstdio>

#include "http_receiver.h"

int main() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the receiver's threads start
  dicomd::test::HttpReceiver receiver;
  receiver.discard_bodies();
  std::printf("%u\n", receiver.port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  std::printf("{\"requests\":%zu,\"bytes\":%llu}\n", receiver.received().size(),
              static_cast<unsigned long long>(receiver.body_bytes()));
  return 0;
}
