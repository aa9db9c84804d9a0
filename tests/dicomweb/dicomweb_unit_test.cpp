// The dicomweb plugin's parsers on their own: the data set scanner, the
// multipart/related reader and writer, Accept negotiation and the DICOM
// JSON writers.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "dataset_scan.h"
#include "dicom_files.h"
#include "dicom_json.h"
#include "meta_header.h"
#include "frames.h"
#include "multipart.h"
#include "negotiation.h"
#include "server_process.h"

using namespace dicomd::dicomweb;

namespace {

std::string test_file(const std::string& name) {
  return dicomd::test::read_file(dicomd::test::pydicom_data_dir() / "test_files" / name);
}

}  // namespace

TEST(DatasetScan, FindsTheUidsOfExplicitImplicitAndBigEndianFiles) {
  for (const char* name : {"CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"}) {
    SCOPED_TRACE(name);
    std::string bytes = test_file(name);
    ScanError error;
    auto ds = scan_dataset(bytes, 0x0020000E, error);
    ASSERT_TRUE(ds) << error.reason;
    EXPECT_FALSE(ds->text(bytes, 0x00080018).empty());
    EXPECT_FALSE(ds->text(bytes, 0x0020000D).empty());
    EXPECT_EQ(ds->elements.back().tag, 0x0020000Eu);
  }
  std::string ct = test_file("CT_small.dcm");
  ScanError error;
  auto ds = scan_dataset(ct, 0x0020000E, error);
  ASSERT_TRUE(ds);
  EXPECT_EQ(ds->text(ct, 0x00080018), "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322");
  EXPECT_EQ(ds->transfer_syntax, "1.2.840.10008.1.2.1");
}

TEST(DatasetScan, WalksPastNestedAndDelimitedSequences) {
  // Files with sequences of undefined length, private sequences and UN.
  for (const char* name : {"nested_priv_SQ.dcm", "priv_SQ.dcm", "reportsi.dcm", "rtplan.dcm", "test-SR.dcm"}) {
    SCOPED_TRACE(name);
    std::string bytes = test_file(name);
    ScanError error;
    auto ds = scan_dataset(bytes, 0xFFFFFFFF, error);
    ASSERT_TRUE(ds) << error.reason;
    EXPECT_GT(ds->elements.size(), 1u);
  }
}

TEST(DatasetScan, RefusesWhatIsNotAPart10FileOrIsCut) {
  ScanError error;
  EXPECT_FALSE(scan_dataset("not dicom", 0xFFFFFFFF, error));
  EXPECT_NE(error.reason.find("Part 10"), std::string::npos);
  std::string ct = test_file("CT_small.dcm");
  EXPECT_FALSE(scan_dataset(std::string_view(ct).substr(0, ct.size() - 100), 0xFFFFFFFF, error));
  EXPECT_NE(error.reason.find("past the end"), std::string::npos);
  EXPECT_FALSE(scan_dataset(test_file("image_dfl.dcm"), 0xFFFFFFFF, error));
  EXPECT_NE(error.reason.find("deflated"), std::string::npos);
}

// tests/fuzz/regressions/fuzz_dicomweb_frames/element-past-the-end: the
// element the walk stopped at was handed out before its length was checked.
TEST(DatasetScan, AnElementRunningPastTheEndIsNeverHandedOut) {
  std::string ct = test_file("CT_small.dcm");
  auto meta = dicomd::gdcm_support::read_meta_header(ct);
  ASSERT_TRUE(meta);
  std::string cut = ct.substr(0, meta->dataset_offset) + std::string("\x28\x00\x10\x00US\x02\x00", 8);
  ScanError error;
  EXPECT_FALSE(scan_dataset(cut, 0x00280010, error));
  EXPECT_NE(error.reason.find("past the end"), std::string::npos);
}

TEST(Frames, NativeFramesAreViewsOfTheirBytesAndEncapsulatedOnesTheirFragments) {
  std::string ct = test_file("CT_small.dcm");
  PixelFrames frames;
  FramesError error;
  ASSERT_TRUE(frames_of(ct, frames, error)) << error.reason;
  ASSERT_EQ(frames.count, 1u);
  EXPECT_FALSE(frames.encapsulated);
  EXPECT_EQ(frames.frames[0][0].size(), 128u * 128 * 2);
  // The frame starts right after the pixel data element's header.
  size_t element = ct.find(std::string("\xE0\x7F\x10\x00OW", 6));
  ASSERT_NE(element, std::string::npos);
  EXPECT_EQ(frames.frames[0][0].data(), ct.data() + element + 12);

  std::string rle = test_file("SC_rgb_rle_2frame.dcm");
  PixelFrames rle_frames;
  ASSERT_TRUE(frames_of(rle, rle_frames, error)) << error.reason;
  EXPECT_TRUE(rle_frames.encapsulated);
  EXPECT_EQ(rle_frames.count, 2u);
  EXPECT_EQ(rle_frames.frames.size(), 2u);
  EXPECT_EQ(frame_media_type(rle_frames.transfer_syntax), "image/x-dicom-rle");

  std::string jpeg = test_file("SC_rgb_jpeg_dcmtk.dcm");
  PixelFrames jpeg_frames;
  ASSERT_TRUE(frames_of(jpeg, jpeg_frames, error)) << error.reason;
  EXPECT_EQ(frame_media_type(jpeg_frames.transfer_syntax), "image/jpeg");
  EXPECT_EQ(static_cast<unsigned char>(jpeg_frames.frames[0][0][0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(jpeg_frames.frames[0][0][1]), 0xD8);

  PixelFrames none;
  EXPECT_FALSE(frames_of(test_file("rtplan.dcm"), none, error));
  EXPECT_EQ(error.status, 422);
}

TEST(Multipart, ReadsPartsWithAndWithoutHeadersAndPreamble) {
  std::string body =
      "preamble\r\n--b1\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n--b1\r\n\r\nBB\r\nB\r\n--b1--\r\nepilogue";
  std::string reason;
  auto parts = parse_multipart_related(body, "b1", reason);
  ASSERT_TRUE(parts) << reason;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].content_type, "application/dicom");
  EXPECT_EQ((*parts)[0].data, "AAA");
  EXPECT_EQ((*parts)[1].content_type, "");
  EXPECT_EQ((*parts)[1].data, "BB\r\nB");
}

TEST(Multipart, ABodyMayOpenWithALineBreakAndCloseWithoutOne) {
  // As npm's dicomweb-client writes them.
  std::string reason;
  auto parts = parse_multipart_related("\r\n--b\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n--b--", "b", reason);
  ASSERT_TRUE(parts) << reason;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "DICM");
}

TEST(Multipart, RefusesAMissingBoundaryOrClosingDelimiter) {
  std::string reason;
  EXPECT_FALSE(parse_multipart_related("--b\r\n\r\nA\r\n--b--", "", reason));
  EXPECT_NE(reason.find("boundary"), std::string::npos);
  EXPECT_FALSE(parse_multipart_related("--b\r\n\r\nA", "b", reason));
  EXPECT_NE(reason.find("closing"), std::string::npos);
  EXPECT_FALSE(parse_multipart_related("no delimiter at all", "b", reason));
  EXPECT_FALSE(parse_multipart_related("--b\r\nContent-Type: x", "b", reason));
  EXPECT_FALSE(parse_multipart_related("--b\r\nno colon\r\n\r\nA\r\n--b--", "b", reason));
  EXPECT_FALSE(parse_multipart_related("--b\r\n\r\nA\r\n--b--", std::string(71, 'x'), reason));
}

TEST(Multipart, WhatTheWriterWritesTheReaderReadsBack) {
  MultipartWriter w("dicomd-x");
  w.begin_part("application/dicom");
  w.add_data("one");
  w.begin_part("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
  w.add_data("tw");
  w.add_data("o");
  std::string body = w.finish();
  EXPECT_EQ(body,
            "--dicomd-x\r\nContent-Type: application/dicom\r\n\r\none\r\n--dicomd-x\r\nContent-Type: "
            "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\ntwo\r\n--dicomd-x--\r\n");
  std::string reason;
  auto parts = parse_multipart_related(body, "dicomd-x", reason);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[1].data, "two");
}

TEST(MediaTypes, ParametersAreUnquotedAndNamesLowerCased) {
  auto m = parse_media_type(R"(Multipart/Related; Type="application/dicom"; boundary=abc)");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, "multipart/related");
  EXPECT_EQ(m->param("type"), "application/dicom");
  EXPECT_EQ(m->param("boundary"), "abc");
  EXPECT_FALSE(parse_media_type("nonsense"));
  EXPECT_FALSE(parse_media_type(R"(a/b; x="unterminated)"));
}

TEST(Negotiation, PicksByPreferenceAndRefusesWhatNothingFits) {
  auto accept = parse_accept("image/png;q=0.5, image/jpeg");
  ASSERT_TRUE(accept);
  EXPECT_EQ(choose_single(*accept, {"image/jpeg", "image/png"}), "image/jpeg");
  accept = parse_accept("image/png, image/jpeg;q=0.1");
  EXPECT_EQ(choose_single(*accept, {"image/jpeg", "image/png"}), "image/png");
  accept = parse_accept("image/*");
  EXPECT_EQ(choose_single(*accept, {"application/dicom+json", "image/png"}), "image/png");
  accept = parse_accept("application/dicom+xml");
  EXPECT_FALSE(choose_single(*accept, {"application/dicom+json"}));
  accept = parse_accept(std::nullopt);
  EXPECT_EQ(choose_single(*accept, {"application/dicom+json"}), "application/dicom+json");
  EXPECT_FALSE(parse_accept("image/png;q=2"));

  const std::vector<std::string> stored = {"1.2.840.10008.1.2.4.50"};
  accept = parse_accept(R"(multipart/related; type="application/octet-stream"; transfer-syntax=*)");
  EXPECT_EQ(accepts_multipart(*accept, "application/octet-stream", "application/octet-stream", stored), "*");
  accept = parse_accept(R"(multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1)");
  EXPECT_FALSE(accepts_multipart(*accept, "application/octet-stream", "application/octet-stream", stored));
  accept = parse_accept(R"(multipart/related; type="image/jpeg")");
  EXPECT_EQ(accepts_multipart(*accept, "image/jpeg", "application/octet-stream", stored), "");
}

TEST(DicomJson, SearchResultsCarryTagsVrsAndPersonNameGroups) {
  dicomd::JsonWriter w;
  write_search_result(w, R"({"PatientName":"Yamada^Tarou=山田^太郎","SeriesNumber":3,"StudyDescription":""})",
                      "http://h/dicom-web/studies/1.2");
  rapidjson::Document d;
  d.Parse(std::string(w.text()).c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["00100010"]["vr"].GetString(), "PN");
  EXPECT_STREQ(d["00100010"]["Value"][0]["Alphabetic"].GetString(), "Yamada^Tarou");
  EXPECT_STREQ(d["00100010"]["Value"][0]["Ideographic"].GetString(), "山田^太郎");
  EXPECT_EQ(d["00200011"]["Value"][0].GetInt(), 3);
  EXPECT_FALSE(d["00081030"].HasMember("Value"));  // empty: vr only
  EXPECT_STREQ(d["00081190"]["Value"][0].GetString(), "http://h/dicom-web/studies/1.2");
  EXPECT_STREQ(d["00080005"]["Value"][0].GetString(), "ISO_IR 192");
  // Keys in tag order.
  std::string previous;
  for (auto m = d.MemberBegin(); m < d.MemberEnd(); ++m) {
    EXPECT_LT(previous, m->name.GetString());
    previous = m->name.GetString();
  }
}

TEST(DicomJson, MetadataTurnsTagObjectsIntoTheJsonModel) {
  std::string tags = R"json([
    {"VM":1,"VR":"UI","keyword":"TransferSyntaxUID","name":"","tag":"(0002,0010)","value":"1.2.840.10008.1.2.1"},
    {"VM":1,"VR":"CS","keyword":"SpecificCharacterSet","name":"","tag":"(0008,0005)","value":"ISO_IR 100"},
    {"VM":2,"VR":"CS","keyword":"ImageType","name":"","tag":"(0008,0008)","value":["ORIGINAL","PRIMARY"]},
    {"VM":1,"VR":"SQ","keyword":"X","name":"","tag":"(0008,1140)","value":[{"(0008,1150)":{"VM":1,"VR":"UI","tag":"(0008,1150)","value":"1.2"}}]},
    {"VM":1,"VR":"AT","keyword":"X","name":"","tag":"(0020,5000)","value":"(0010,0010)"},
    {"VM":3,"VR":"DS","keyword":"X","name":"","tag":"(0020,0032)","value":[-1.5,0,2]},
    {"VM":1,"VR":"OB","keyword":"X","name":"","tag":"(0029,1010)","value":"AAEC"},
    {"VM":1,"VR":"OB","keyword":"X","name":"","tag":"(0029,1020)","length":4096,"value":null},
    {"VM":1,"VR":"OW","keyword":"PixelData","name":"","tag":"(7FE0,0010)","length":32768,"value":null}])json";
  auto json = metadata_to_dicom_json(tags, "http://h/i/bulk");
  ASSERT_TRUE(json);
  rapidjson::Document d;
  d.Parse(json->c_str());
  ASSERT_TRUE(d.IsObject()) << *json;
  EXPECT_FALSE(d.HasMember("00020010"));
  EXPECT_STREQ(d["00083002"]["Value"][0].GetString(), "1.2.840.10008.1.2.1");
  EXPECT_STREQ(d["00080005"]["Value"][0].GetString(), "ISO_IR 192");
  EXPECT_EQ(d["00080008"]["Value"].Size(), 2u);
  EXPECT_STREQ(d["00081140"]["Value"][0]["00081150"]["Value"][0].GetString(), "1.2");
  EXPECT_STREQ(d["00205000"]["Value"][0].GetString(), "00100010");
  EXPECT_EQ(d["00200032"]["Value"][0].GetDouble(), -1.5);
  EXPECT_STREQ(d["00291010"]["InlineBinary"].GetString(), "AAEC");
  EXPECT_STREQ(d["00291020"]["BulkDataURI"].GetString(), "http://h/i/bulk/00291020");
  EXPECT_STREQ(d["7FE00010"]["BulkDataURI"].GetString(), "http://h/i/bulk/7FE00010");
  EXPECT_FALSE(metadata_to_dicom_json("{}", ""));
}
