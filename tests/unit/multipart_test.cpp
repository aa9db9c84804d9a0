#include "http/multipart.h"

#include <gtest/gtest.h>

using dicomd::http::multipart_boundary;
using dicomd::http::parse_multipart;

TEST(MultipartBoundary, QuotedAndUnquoted) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c");
  EXPECT_FALSE(multipart_boundary("application/json"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
}

TEST(Multipart, FieldsAndFilesInAnyOrder) {
  std::string body =
      "--XYZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"IM 1+é.dcm\"\r\n"
      "Content-Type: application/dicom\r\n\r\nDICM\r\n\r\nbytes\r\n"
      "--XYZ\r\nContent-Disposition: form-data; name=\"study\"\r\n\r\nmy study\r\n"
      "--XYZ\r\nContent-Disposition: form-data; name=files; filename=C:\\x\\IM2\r\n\r\n\r\n"
      "--XYZ--\r\n";
  auto parts = parse_multipart(body, "XYZ");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "files");
  EXPECT_EQ((*parts)[0].filename, "IM 1+é.dcm");
  EXPECT_EQ((*parts)[0].content_type, "application/dicom");
  EXPECT_EQ((*parts)[0].data, "DICM\r\n\r\nbytes");
  EXPECT_EQ((*parts)[1].name, "study");
  EXPECT_FALSE((*parts)[1].has_filename);
  EXPECT_EQ((*parts)[1].data, "my study");
  EXPECT_EQ((*parts)[2].filename, "C:\\x\\IM2");
  EXPECT_EQ((*parts)[2].data, "");
}

TEST(Multipart, Rfc5987FileName) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''caf%C3%A9.dcm\r\n\r\nx\r\n--b--";
  auto parts = parse_multipart(body, "b");
  ASSERT_TRUE(parts);
  EXPECT_EQ((*parts)[0].filename, "café.dcm");
}

TEST(Multipart, PreambleIsIgnored) {
  auto parts = parse_multipart("preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--", "b");
  ASSERT_TRUE(parts);
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(Multipart, MalformedBodiesAreRejected) {
  EXPECT_FALSE(parse_multipart("", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nNo-Disposition: x\r\n\r\n1\r\n--b--", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Disposition: form-data; name=\"a\"", "b"));
  EXPECT_FALSE(parse_multipart("--bX\r\n", "b"));
}
