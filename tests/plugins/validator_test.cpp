// The validator's checks in-process, on inputs that do not crash GDCM (those
// are covered through the isolated workers in the integration tests).
#include <gtest/gtest.h>

#include "dicom_check.h"
#include "dicom_files.h"
#include "server_process.h"

using dicomd::validator::check_dicom;
using namespace dicomd::test;

TEST(DicomCheck, AcceptsRealFiles) {
  for (const char* name : {"CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "JPEG2000.dcm",
                           "image_dfl.dcm", "SC_ybr_full_422_uncompressed.dcm"}) {
    auto v = check_dicom(read_file(pydicom_data_dir() / "test_files" / name));
    EXPECT_TRUE(v.valid) << name << ": " << v.reason;
  }
}

TEST(DicomCheck, RejectsOtherContentWithAReason) {
  EXPECT_EQ(check_dicom("").reason, "empty file");
  EXPECT_EQ(check_dicom("%PDF-1.7").reason, "not DICOM: the content is a PDF document");
  EXPECT_EQ(check_dicom("\x89PNG\r\n\x1a\nxxxx").reason, "not DICOM: the content is a PNG image");
  EXPECT_EQ(check_dicom(std::string(128, '\0') + "DICM").reason, "truncated file: nothing after the DICM prefix");
  EXPECT_FALSE(check_dicom("short").valid);
  EXPECT_FALSE(check_dicom(std::string(5000, 'x')).valid);
}

// (Most other truncations make Debian's GDCM abort: they are only tried
// through the isolated workers, in tests/integration/upload_test.cpp.)
TEST(DicomCheck, PixelDataShorterThanDeclaredIsRejected) {
  auto v = check_dicom(read_file(pydicom_data_dir() / "test_files" / "MR_truncated.dcm"));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, "truncated file: pixel data ends before its declared length (8192 bytes)");
}
