#include "http/url.h"

#include <gtest/gtest.h>

using dicomd::http::parse_query;
using dicomd::http::percent_decode;

TEST(PercentDecode, DecodesOnce) {
  EXPECT_EQ(percent_decode("a%20b%2541", false), "a b%41");
  EXPECT_EQ(percent_decode("%C3%A9", false), "\xC3\xA9");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("%4", false));
  EXPECT_FALSE(percent_decode("%zz", false));
  EXPECT_FALSE(percent_decode("ab%g1", false));
}

TEST(ParseQuery, KeepsRepeatsInOrder) {
  auto q = parse_query("tag=%280028%2C0011%29&tag=Rows&x&&tag=00280010");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[0], std::make_pair(std::string("tag"), std::string("(0028,0011)")));
  EXPECT_EQ((*q)[1].second, "Rows");
  EXPECT_EQ((*q)[2], std::make_pair(std::string("x"), std::string("")));
  EXPECT_EQ((*q)[3].second, "00280010");
}

TEST(ParseQuery, EmptyAndMalformed) {
  EXPECT_TRUE(parse_query("")->empty());
  EXPECT_FALSE(parse_query("a=%zz"));
}
