#include "server/router.h"

#include <gtest/gtest.h>

using Router = dicomd::Router<int>;

TEST(Router, LiteralBeatsParameter) {
  Router r;
  ASSERT_FALSE(r.add("GET", "/files/:study/:file", "a", 1));
  ASSERT_FALSE(r.add("GET", "/files/:study/:file/tag", "b", 2));
  ASSERT_FALSE(r.add("GET", "/files/special/:file", "c", 3));
  auto m = r.match("GET", "/files/x/y");
  ASSERT_TRUE(m.target);
  EXPECT_EQ(*m.target, 1);
  EXPECT_EQ(m.params[0], std::make_pair(std::string("study"), std::string("x")));
  EXPECT_EQ(m.params[1], std::make_pair(std::string("file"), std::string("y")));
  EXPECT_EQ(*r.match("GET", "/files/special/y").target, 3);
  EXPECT_EQ(*r.match("GET", "/files/a%20b/y/tag").target, 2);
}

TEST(Router, WrongMethodListsAllowed) {
  Router r;
  r.add("GET", "/files", "a", 1);
  r.add("DELETE", "/files/:study", "a", 2);
  r.add("GET", "/files/:study", "a", 3);
  auto m = r.match("PUT", "/files/x");
  EXPECT_FALSE(m.target);
  ASSERT_EQ(m.allowed.size(), 2u);
  EXPECT_FALSE(r.match("GET", "/nothing").target);
  EXPECT_TRUE(r.match("GET", "/nothing").allowed.empty());
}

TEST(Router, SameShapeIsAConflictNamingTheOwner) {
  Router r;
  r.add("GET", "/files/:study", "storage", 1);
  auto conflict = r.add("GET", "/files/:name", "other", 2);
  ASSERT_TRUE(conflict);
  EXPECT_EQ(*conflict, "storage");
  EXPECT_FALSE(r.add("POST", "/files/:name", "other", 3));
}

TEST(Router, TrailingAndDoubleSlashesDoNotCreateEmptyParams) {
  Router r;
  r.add("GET", "/files/:study", "a", 1);
  EXPECT_TRUE(r.match("GET", "/files/x/").target);
  EXPECT_FALSE(r.match("GET", "/files/").target);
}
