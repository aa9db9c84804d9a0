#include <dicomd/cpp/names.hpp>

#include <gtest/gtest.h>

using dicomd::base_name;
using dicomd::is_valid_name;
using dicomd::is_valid_utf8;

TEST(Names, RealFileNamesAreAccepted) {
  for (const char* ok : {"IM000001", "CT_small.dcm", "IM 1+é.dcm", "a", "名前.dcm", "x..y", "#1 (copy)"})
    EXPECT_TRUE(is_valid_name(ok)) << ok;
  EXPECT_TRUE(is_valid_name(std::string(255, 'a')));
}

TEST(Names, DangerousNamesAreRejected) {
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."), std::string(".tmp"), std::string("a/b"),
        std::string("a\\b"), std::string("a\0b", 3), std::string("a\nb"), std::string("a\x7f"), std::string("\xc2\x85"),
        std::string(256, 'a'), std::string("\xe9t\xe9"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80")})
    EXPECT_FALSE(is_valid_name(bad)) << bad;
}

TEST(Names, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9f\x98"));      // truncated
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Names, BaseNameOfClientPaths) {
  EXPECT_EQ(base_name("C:\\x\\IM1"), "IM1");
  EXPECT_EQ(base_name("../../x.dcm"), "x.dcm");
  EXPECT_EQ(base_name("plain"), "plain");
  EXPECT_EQ(base_name("dir/"), "");
}
