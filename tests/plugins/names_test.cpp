#include <dicomd/cpp/http.hpp>
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

// Names that look alike or show reordered: the NFD form of an NFC name (e +
// U+0301 beside é), bidirectional controls (a right-to-left override makes
// "x\u202Egpj.exe" show as "xexe.jpg"), zero-width characters.
TEST(Names, LookAlikeAndReorderingCodePointsAreRejected) {
  EXPECT_TRUE(is_valid_name("caf\xc3\xa9"));    // café, NFC
  EXPECT_FALSE(is_valid_name("cafe\xcc\x81"));  // café, NFD: e + COMBINING ACUTE ACCENT
  for (const char* bad : {"x\xe2\x80\xae"
                          "gpj.exe",
                          "a\xe2\x80\x8f"
                          "b",
                          "a\xe2\x81\xa6"
                          "b",
                          "a\xd8\x9c"
                          "b",
                          "a\xe2\x80\x8b"
                          "b",
                          "a\xe2\x80\x8d"
                          "b",
                          "\xef\xbb\xbf"
                          "a",
                          "a\xe2\x81\xa0"
                          "b"})
    EXPECT_FALSE(is_valid_name(bad)) << bad;
  EXPECT_TRUE(is_valid_name("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"));  // Hebrew letters themselves are fine
}

TEST(Names, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9f\x98"));      // truncated
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Names, TextThatIsNotUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xef\xbf\xbd";                                         // U+FFFD
  EXPECT_EQ(dicomd::to_valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");                  // kept
  EXPECT_EQ(dicomd::to_valid_utf8(std::string("a\xff") + "b"), "a" + fffd + "b");  // a stray byte
  EXPECT_EQ(dicomd::to_valid_utf8("\xf0\x9f\x98"), fffd + fffd + fffd);            // truncated
  EXPECT_EQ(dicomd::to_valid_utf8("\xe0\x80\xaf"), fffd + fffd + fffd);            // overlong
  // Error messages: the SDK's escaping writes valid UTF-8.
  EXPECT_EQ(dicomd::json_escape("key \"\xff\xfe\""), "key \\\"" + fffd + fffd + "\\\"");
}

TEST(Names, BaseNameOfClientPaths) {
  EXPECT_EQ(base_name("C:\\x\\IM1"), "IM1");
  EXPECT_EQ(base_name("../../x.dcm"), "x.dcm");
  EXPECT_EQ(base_name("plain"), "plain");
  EXPECT_EQ(base_name("dir/"), "");
}
