// IdleTrim: freed memory goes back once, after a quiet second, and never
// while work runs or keeps arriving.
#include <gtest/gtest.h>

#include "idle_trim.h"

using dicomd::IdleTrim;
using namespace std::chrono_literals;

TEST(IdleTrim, TrimsOnceAfterAQuietSecond) {
  IdleTrim trim;
  IdleTrim::Clock::time_point t0{};
  EXPECT_FALSE(trim.tick(0, false, t0 + 5s));  // nothing ever ran: nothing to give back
  EXPECT_FALSE(trim.tick(1, false, t0 + 6s));  // a request began
  EXPECT_FALSE(trim.tick(1, false, t0 + 6s + 900ms));
  EXPECT_TRUE(trim.tick(1, false, t0 + 7s));
  EXPECT_FALSE(trim.tick(1, false, t0 + 9s));  // once per quiet spell
  EXPECT_FALSE(trim.tick(2, false, t0 + 10s));
  EXPECT_TRUE(trim.tick(2, false, t0 + 11s));
}

TEST(IdleTrim, NeverWhileBusyOrWhileWorkKeepsArriving) {
  IdleTrim trim;
  IdleTrim::Clock::time_point t0{};
  for (int i = 1; i <= 50; ++i) EXPECT_FALSE(trim.tick(static_cast<uint64_t>(i), false, t0 + i * 200ms));
  for (int i = 51; i <= 70; ++i) EXPECT_FALSE(trim.tick(50, true, t0 + i * 200ms));  // one long request
  EXPECT_FALSE(trim.tick(50, false, t0 + 71 * 200ms));
  EXPECT_TRUE(trim.tick(50, false, t0 + 76 * 200ms));
}
