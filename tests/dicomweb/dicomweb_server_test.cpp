// The dicomweb plugin in the real dicomd over loopback HTTP: QIDO-RS,
// WADO-RS and STOW-RS with their PS3.18 shapes, content types and status
// codes, the bad input of issue #18, and CORS.
#include <gtest/gtest.h>

#include <lodepng.h>

#include "core_server.h"
#include "dicom_files.h"
#include "synthetic_series.h"

using namespace dicomd::test;

namespace {

const std::string kCtStudy = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322";
const std::string kCtSeries = "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322";
const std::string kCtInstance = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";
const std::string kCtPath = "/dicom-web/studies/" + kCtStudy + "/series/" + kCtSeries + "/instances/" + kCtInstance;

std::string test_file(const std::string& name) {
  return read_file(pydicom_data_dir() / "test_files" / name);
}

// The text after `prefix` in `s` up to `end` (or the end), or "" when absent.
// (No std::regex: GCC 12 warns falsely inside it under the sanitizers.)
std::string after(const std::string& s, const std::string& prefix, char end = '\0') {
  size_t at = s.find(prefix);
  if (at == std::string::npos) return "";
  std::string rest = s.substr(at + prefix.size());
  return end ? rest.substr(0, rest.find(end)) : rest;
}

bool only_of(const std::string& s, const std::string& allowed) {
  return !s.empty() && s.find_first_not_of(allowed) == std::string::npos;
}

// An independent reading of a multipart/related answer: {content type, data} per part.
std::vector<std::pair<std::string, std::string>> split_multipart(const HttpReply& r) {
  std::vector<std::pair<std::string, std::string>> parts;
  std::string boundary = after(r.header("content-type"), "boundary=", ';');
  if (boundary.empty()) return parts;
  std::string delimiter = "--" + boundary;
  size_t at = r.body.find(delimiter);
  while (at != std::string::npos && r.body.compare(at + delimiter.size(), 2, "--") != 0) {
    size_t headers = at + delimiter.size() + 2;
    size_t data = r.body.find("\r\n\r\n", headers) + 4;
    size_t end = r.body.find("\r\n" + delimiter, data);
    if (end == std::string::npos) break;
    std::string header_text = r.body.substr(headers, data - 4 - headers);
    parts.emplace_back(after(header_text, "Content-Type: ", '\r'), r.body.substr(data, end - data));
    at = end + 2;
  }
  return parts;
}

std::string stow_body(const std::vector<std::string>& instances, const std::string& boundary,
                      const std::string& part_type = "application/dicom") {
  std::string body;
  for (const auto& i : instances) body += "--" + boundary + "\r\nContent-Type: " + part_type + "\r\n\r\n" + i + "\r\n";
  return body + "--" + boundary + "--\r\n";
}

HttpReply stow(uint16_t port, const std::vector<std::string>& instances,
               const std::string& target = "/dicom-web/studies") {
  return request(port, "POST", target, stow_body(instances, "stow-boundary-1"),
                 {{"Content-Type", R"(multipart/related; type="application/dicom"; boundary=stow-boundary-1)"}});
}

HttpReply get(uint16_t port, const std::string& target, const std::string& accept = "") {
  std::map<std::string, std::string> headers;
  if (!accept.empty()) headers["Accept"] = accept;
  return request(port, "GET", target, "", headers);
}

std::string first_value(const rapidjson::Value& dataset, const char* tag) {
  if (!dataset.HasMember(tag) || !dataset[tag].HasMember("Value")) return "";
  const auto& v = dataset[tag]["Value"][0];
  return v.IsString() ? v.GetString() : std::to_string(v.GetInt64());
}

std::vector<std::string> synthetic_series(const std::string& study, const std::string& series, int count,
                                          unsigned frames = 1) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    SliceSpec s = slice_of(study, series);
    s.instance_number = count - i;  // stored in reverse: the answers must sort
    s.z = count - i;
    s.level = 100 * i;
    s.frames = frames;
    out.push_back(make_slice(s));
  }
  return out;
}

}  // namespace

TEST(DicomWebQido, FindsStudiesSeriesAndInstancesAsDicomJson) {
  CoreServer server;
  ASSERT_EQ(server
                .upload_paths("s", {pydicom_data_dir() / "test_files" / "CT_small.dcm",
                                    pydicom_data_dir() / "test_files" / "MR_small.dcm"})
                .status,
            201);
  const std::string study = new_uid(), series = new_uid();
  ASSERT_EQ(stow(server.port(), synthetic_series(study, series, 5)).status, 200);

  HttpReply studies = get(server.port(), "/dicom-web/studies?PatientID=" + std::string("JOBS1"));
  ASSERT_EQ(studies.status, 200) << studies.body;
  EXPECT_EQ(studies.header("content-type"), "application/dicom+json");
  auto d = parse_json(studies.body);
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 1u);
  EXPECT_EQ(first_value(d[0], "0020000D"), study);
  EXPECT_EQ(first_value(d[0], "00201208"), "5");
  EXPECT_EQ(first_value(d[0], "00201206"), "1");
  EXPECT_STREQ(d[0]["00100010"]["vr"].GetString(), "PN");
  EXPECT_STREQ(d[0]["00100010"]["Value"][0]["Alphabetic"].GetString(), "Jobs^Test");
  // Absolute, from the Host the client named (this client names no port).
  EXPECT_EQ(first_value(d[0], "00081190"), "http://127.0.0.1/dicom-web/studies/" + study);

  // Person names match case-insensitively, as the index does.
  auto by_name = parse_json(get(server.port(), "/dicom-web/studies?PatientName=compressedsamples*").body);
  EXPECT_EQ(by_name.Size(), 2u);  // the CT's and the MR's
  // By tag instead of keyword.
  EXPECT_EQ(parse_json(get(server.port(), "/dicom-web/studies?00100020=JOBS1").body).Size(), 1u);

  auto series_list = parse_json(get(server.port(), "/dicom-web/studies/" + study + "/series").body);
  ASSERT_EQ(series_list.Size(), 1u);
  EXPECT_EQ(first_value(series_list[0], "0020000E"), series);
  EXPECT_EQ(first_value(series_list[0], "00201209"), "5");
  EXPECT_EQ(first_value(series_list[0], "00080060"), "CT");

  auto instances =
      parse_json(get(server.port(), "/dicom-web/studies/" + study + "/series/" + series + "/instances").body);
  ASSERT_EQ(instances.Size(), 5u);
  for (rapidjson::SizeType i = 0; i < 5; ++i) EXPECT_EQ(first_value(instances[i], "00200013"), std::to_string(i + 1));

  // Paging: limit and offset, and the total beyond them.
  auto page = get(server.port(), "/dicom-web/studies/" + study + "/instances?limit=2&offset=3");
  ASSERT_EQ(page.status, 200);
  auto page_json = parse_json(page.body);
  ASSERT_EQ(page_json.Size(), 2u);
  EXPECT_EQ(first_value(page_json[0], "00200013"), "4");
  // A limit above the server's bound is cut, with the Warning PS3.18 names.
  auto cut = get(server.port(), "/dicom-web/instances?limit=5000");
  EXPECT_EQ(cut.status, 200);
  EXPECT_NE(cut.header("warning").find("299"), std::string::npos);
  // includefield of attributes (known ones, and "all") is accepted.
  EXPECT_EQ(get(server.port(), "/dicom-web/studies?includefield=00081030,StudyDescription&includefield=all").status,
            200);
  // A study that does not exist: an empty answer.
  EXPECT_EQ(get(server.port(), "/dicom-web/studies?StudyInstanceUID=1.2.3.4").body, "[]");
}

TEST(DicomWebQido, RefusesBadSearchesWithTheReason) {
  CoreServer server;
  struct Case {
    std::string target, accept;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"/dicom-web/studies?NoSuchKeyword=1", "", 400, "not a DICOM keyword"},
      {"/dicom-web/studies?PixelSpacing=1", "", 400, "not a search key"},
      {"/dicom-web/studies?includefield=NotAKeyword", "", 400, "includefield"},
      {"/dicom-web/studies?includefield=", "", 400, "includefield"},
      {"/dicom-web/studies?limit=-1", "", 400, "limit"},
      {"/dicom-web/studies?limit=ten", "", 400, "limit"},
      {"/dicom-web/studies?offset=99999999999999999999", "", 400, "offset"},
      {"/dicom-web/studies?offset=1e3", "", 400, "offset"},
      {"/dicom-web/studies?fuzzymatching=maybe", "", 400, "fuzzymatching"},
      {"/dicom-web/studies?StudyDate=2020-13-45", "", 400, ""},
      {"/dicom-web/studies/not-a-uid/series", "", 400, "not a UID"},
      {"/dicom-web/studies", "application/dicom+xml", 406, "dicom+json"},
      {"/dicom-web/studies", "text/html;q=bad", 400, "Accept"},
      // Bytes that are not UTF-8 come back as '?': the answer stays valid JSON.
      {"/dicom-web/studies?%FF%FEName=1", "", 400, "??Name"},
      {"/dicom-web/studies?includefield=%C3%28", "", 400, "?("},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target + " " + c.accept);
    HttpReply r = get(server.port(), c.target, c.accept);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_NE(parse_json(r.body)["error"].GetString(), nullptr);
    EXPECT_NE(r.body.find(c.says), std::string::npos) << r.body;
  }
}

TEST(DicomWebMetadata, SeriesMetadataIsTheJsonModelWithBulkDataUris) {
  CoreServer server;
  ASSERT_EQ(server.upload_paths("s", {pydicom_data_dir() / "test_files" / "CT_small.dcm"}).status, 201);
  HttpReply r = get(server.port(), "/dicom-web/studies/" + kCtStudy + "/series/" + kCtSeries + "/metadata");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/dicom+json");
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 1u);
  const auto& ct = d[0];
  for (auto m = ct.MemberBegin(); m < ct.MemberEnd(); ++m) {
    std::string tag = m->name.GetString();
    SCOPED_TRACE(tag);
    EXPECT_TRUE(tag.size() == 8 && only_of(tag, "0123456789ABCDEF"));
    EXPECT_FALSE(tag.starts_with("0002"));  // the file meta group is not part of the data set
    ASSERT_TRUE(m->value.HasMember("vr"));
    EXPECT_EQ(std::string(m->value["vr"].GetString()).size(), 2u);
    int forms = m->value.HasMember("Value") + m->value.HasMember("InlineBinary") + m->value.HasMember("BulkDataURI");
    EXPECT_LE(forms, 1);
  }
  EXPECT_STREQ(ct["00100010"]["Value"][0]["Alphabetic"].GetString(), "CompressedSamples^CT1");
  EXPECT_EQ(ct["00280010"]["Value"][0].GetInt(), 128);
  EXPECT_EQ(ct["00200032"]["Value"].Size(), 3u);
  EXPECT_TRUE(ct["00200032"]["Value"][0].IsNumber());
  EXPECT_STREQ(ct["00083002"]["Value"][0].GetString(), "1.2.840.10008.1.2.1");
  std::string bulk = ct["7FE00010"]["BulkDataURI"].GetString();
  EXPECT_EQ(bulk, "http://127.0.0.1" + kCtPath + "/bulk/7FE00010");
  // The bulk data URI resolves: the pixel data as one octet-stream part.
  HttpReply pixels = get(server.port(), bulk.substr(bulk.find("/dicom-web")));
  ASSERT_EQ(pixels.status, 200) << pixels.body;
  auto parts = split_multipart(pixels);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].second.size(), 128u * 128 * 2);

  // The same answer at instance and study level.
  EXPECT_EQ(get(server.port(), kCtPath + "/metadata").body, r.body);
  EXPECT_EQ(get(server.port(), "/dicom-web/studies/" + kCtStudy + "/metadata").body, r.body);
  EXPECT_EQ(get(server.port(), "/dicom-web/studies/1.2.3/metadata").status, 404);
  EXPECT_EQ(get(server.port(), kCtPath + "/metadata", "application/dicom+xml").status, 406);
}

// An independent reading: pydicom's own DICOM JSON of the same files
// (tests/dicomweb/compare_pydicom_json.py says what it compares).
TEST(DicomWebMetadata, EqualsPydicomsDicomJsonForEveryTestFile) {
  CoreServer server({"--disable", "jobs"});
  std::vector<std::filesystem::path> files = pydicom_files();
  std::map<std::string, std::vector<std::filesystem::path>> by_folder;
  for (const auto& f : files) by_folder[f.parent_path().filename().string()].push_back(f);
  for (const auto& [folder, paths] : by_folder) {
    int status = server.upload_paths(folder, paths).status;
    EXPECT_TRUE(status == 201 || status == 422) << folder << ": " << status;  // 422: some are not DICOM
  }
  std::string command = "/usr/bin/python3 -W ignore ";
  command += shell_quote(source_dir() + "/tests/dicomweb/compare_pydicom_json.py");
  // (Appended piece by piece: GCC 12 warns falsely on `"literal" + std::string`.)
  command.append(" ").append(std::to_string(server.port()));
  for (const auto& f : files) command.append(" ").append(shell_quote(f.string()));
  int status = 0;
  std::string output = run_command(command + " 2>&1", &status);
  EXPECT_EQ(status, 0) << output;
  std::string compared = after(output, "compared ", ' ');
  ASSERT_TRUE(only_of(compared, "0123456789")) << output;
  EXPECT_GE(std::stoi(compared), 20) << output;
}

TEST(DicomWebRetrieve, InstancesComeBackAsStoredInMultipartRelated) {
  CoreServer server;
  std::string ct = test_file("CT_small.dcm");
  ASSERT_EQ(server.upload_paths("s", {pydicom_data_dir() / "test_files" / "CT_small.dcm"}).status, 201);
  for (const std::string& target :
       {kCtPath, "/dicom-web/studies/" + kCtStudy, "/dicom-web/studies/" + kCtStudy + "/series/" + kCtSeries}) {
    for (const std::string& accept : {std::string(), std::string(R"(multipart/related; type="application/dicom")"),
                                      std::string("multipart/related; type=application/dicom; transfer-syntax=*")}) {
      SCOPED_TRACE(target + " " + accept);
      HttpReply r = get(server.port(), target, accept);
      ASSERT_EQ(r.status, 200) << r.body;
      const std::string type = r.header("content-type"),
                        prefix = R"(multipart/related; type="application/dicom"; boundary=)";
      EXPECT_EQ(type.rfind(prefix, 0), 0u) << type;
      EXPECT_TRUE(only_of(type.substr(prefix.size()), "abcdefghijklmnopqrstuvwxyz0123456789-")) << type;
      auto parts = split_multipart(r);
      ASSERT_EQ(parts.size(), 1u);
      EXPECT_EQ(parts[0].first, "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
      EXPECT_TRUE(parts[0].second == ct);
    }
  }
  // A transfer syntax it would have to transcode to: 406.
  EXPECT_EQ(
      get(server.port(), kCtPath, "multipart/related; type=application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50")
          .status,
      406);
  EXPECT_EQ(get(server.port(), kCtPath, "application/zip").status, 406);
  EXPECT_EQ(get(server.port(), "/dicom-web/studies/" + kCtStudy + "/series/1.2.3").status, 404);
}

TEST(DicomWebFrames, NativeFramesAreTheirBytesAndCompressedOnesTheirStream) {
  CoreServer server;
  const std::string study = new_uid(), series = new_uid();
  std::string multi = synthetic_series(study, series, 1, 3)[0];
  ASSERT_EQ(stow(server.port(), {multi}).status, 200);
  auto instances = parse_json(get(server.port(), "/dicom-web/studies/" + study + "/instances").body);
  ASSERT_EQ(instances.Size(), 1u);
  std::string path =
      "/dicom-web/studies/" + study + "/series/" + series + "/instances/" + first_value(instances[0], "00080018");

  HttpReply two = get(server.port(), path + "/frames/2");
  ASSERT_EQ(two.status, 200) << two.body;
  EXPECT_EQ(two.header("content-type").rfind(R"(multipart/related; type="application/octet-stream"; boundary=)", 0),
            0u);
  auto parts = split_multipart(two);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].first, "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
  ASSERT_EQ(parts[0].second.size(), 64u * 64 * 2);
  // Frame 2 (k = 1) holds level + 1 + (i % 7) at pixel i.
  for (size_t i : {size_t{0}, size_t{5}, size_t{4095}}) {
    int16_t v;
    std::memcpy(&v, parts[0].second.data() + 2 * i, 2);
    EXPECT_EQ(v, 1 + static_cast<int>(i % 7)) << i;
  }
  auto list = split_multipart(get(server.port(), path + "/frames/3,1"));
  ASSERT_EQ(list.size(), 2u);
  int16_t first_of_3;
  std::memcpy(&first_of_3, list[0].second.data(), 2);
  EXPECT_EQ(first_of_3, 2);

  EXPECT_EQ(get(server.port(), path + "/frames/0").status, 400);
  EXPECT_EQ(get(server.port(), path + "/frames/1,x").status, 400);
  EXPECT_EQ(get(server.port(), path + "/frames/4").status, 404);
  EXPECT_EQ(get(server.port(), path + "/frames/1", "multipart/related; type=image/jpeg").status, 406);

  // A JPEG file: its stream as stored, under its own media type.
  ASSERT_EQ(server.upload_paths("s", {pydicom_data_dir() / "test_files" / "SC_rgb_jpeg_dcmtk.dcm"}).status, 201);
  auto jpeg = parse_json(get(server.port(), "/dicom-web/instances?Modality=OT").body);
  ASSERT_GE(jpeg.Size(), 1u);
  std::string url = first_value(jpeg[0], "00081190");
  std::string jpeg_path = url.substr(url.find("/dicom-web"));
  for (const std::string& accept :
       {std::string(), std::string("multipart/related; type=\"image/jpeg\""),
        std::string("multipart/related; type=application/octet-stream; transfer-syntax=*")}) {
    SCOPED_TRACE(accept);
    HttpReply r = get(server.port(), jpeg_path + "/frames/1", accept);
    ASSERT_EQ(r.status, 200) << r.body;
    auto jp = split_multipart(r);
    ASSERT_EQ(jp.size(), 1u);
    EXPECT_NE(jp[0].first.find("transfer-syntax=1.2.840.10008.1.2.4.50"), std::string::npos);
    EXPECT_EQ(jp[0].second.substr(0, 2), "\xFF\xD8");
  }
  // Uncompressed octet-stream of a compressed file would need decoding: 406.
  EXPECT_EQ(get(server.port(), jpeg_path + "/frames/1", "multipart/related; type=application/octet-stream").status,
            406);
}

TEST(DicomWebRendered, RenderedAndThumbnailsAsJpegOrPng) {
  CoreServer server;
  ASSERT_EQ(server.upload_paths("s", {pydicom_data_dir() / "test_files" / "CT_small.dcm"}).status, 201);
  HttpReply jpeg = get(server.port(), kCtPath + "/rendered");
  ASSERT_EQ(jpeg.status, 200) << jpeg.body;
  EXPECT_EQ(jpeg.header("content-type"), "image/jpeg");
  EXPECT_EQ(jpeg.body.substr(0, 3), "\xFF\xD8\xFF");
  HttpReply png = get(server.port(), kCtPath + "/rendered?viewport=64,100", "image/png");
  ASSERT_EQ(png.status, 200);
  std::vector<unsigned char> pixels;
  unsigned w = 0, h = 0;
  ASSERT_EQ(lodepng::decode(pixels, w, h, reinterpret_cast<const unsigned char*>(png.body.data()), png.body.size(),
                            LCT_GREY, 8),
            0u);
  EXPECT_EQ(w, 64u);
  EXPECT_EQ(h, 64u);
  HttpReply windowed = get(server.port(), kCtPath + "/rendered?viewport=64,64&window=0,100", "image/png");
  ASSERT_EQ(windowed.status, 200);
  EXPECT_NE(windowed.body, png.body);
  HttpReply low = get(server.port(), kCtPath + "/frames/1/rendered?quality=5");
  ASSERT_EQ(low.status, 200);
  EXPECT_LT(low.body.size(), jpeg.body.size());
  // Conditional requests: the ETag names the file, the options and the type.
  EXPECT_FALSE(jpeg.header("etag").empty());
  EXPECT_EQ(request(server.port(), "GET", kCtPath + "/rendered", "", {{"If-None-Match", jpeg.header("etag")}}).status,
            304);

  for (const std::string& target : {"/dicom-web/studies/" + kCtStudy + "/thumbnail",
                                    "/dicom-web/studies/" + kCtStudy + "/series/" + kCtSeries + "/thumbnail",
                                    kCtPath + "/thumbnail", kCtPath + "/frames/1/thumbnail"}) {
    HttpReply t = get(server.port(), target, "image/png");
    ASSERT_EQ(t.status, 200) << target << t.body;
    ASSERT_EQ(lodepng::decode(pixels, w, h, reinterpret_cast<const unsigned char*>(t.body.data()), t.body.size(),
                              LCT_GREY, 8),
              0u);
    EXPECT_EQ(w, 128u) << target;
  }
  for (std::string_view bad : {"?window=40", "?window=40,0", "?window=40,400,sigmoid", "?viewport=0,10",
                               "?viewport=10,10,1,1,5,5", "?quality=0", "?quality=101"})
    EXPECT_EQ(get(server.port(), kCtPath + "/rendered" + std::string(bad)).status, 400) << bad;
  EXPECT_EQ(get(server.port(), kCtPath + "/rendered", "image/gif").status, 406);
  EXPECT_EQ(get(server.port(), kCtPath + "/frames/0/rendered").status, 400);
}

TEST(DicomWebStow, StoresEachInstanceWhereTheOriginalApiSeesIt) {
  CoreServer server;
  const std::string study = new_uid(), series = new_uid();
  auto slices = synthetic_series(study, series, 3);
  HttpReply r = stow(server.port(), slices);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/dicom+json");
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.HasMember("00081199"));
  EXPECT_FALSE(d.HasMember("00081198"));
  ASSERT_EQ(d["00081199"]["Value"].Size(), 3u);
  for (const auto& item : d["00081199"]["Value"].GetArray()) {
    std::string sop = first_value(item, "00081155");
    EXPECT_EQ(first_value(item, "00081150"), "1.2.840.10008.5.1.4.1.1.2");
    std::string url = first_value(item, "00081190");
    EXPECT_NE(url.find("/studies/" + study + "/series/" + series + "/instances/" + sop), std::string::npos);
    // Study {StudyInstanceUID}, file {SOPInstanceUID}.dcm, for the original API.
    HttpReply file = server.get("/files/" + study + "/" + sop + ".dcm");
    EXPECT_EQ(file.status, 200);
    EXPECT_TRUE(std::find(slices.begin(), slices.end(), file.body) != slices.end());
  }
  // Searchable as soon as the answer came.
  EXPECT_EQ(parse_json(get(server.port(), "/dicom-web/studies/" + study + "/instances").body).Size(), 3u);
  // The same instances again (a client's retry): stored already, success.
  EXPECT_EQ(stow(server.port(), slices).status, 200);
  // Into the URL's study.
  EXPECT_EQ(stow(server.port(), {slices[0]}, "/dicom-web/studies/" + study).status, 200);
}

TEST(DicomWebStow, ReportsEachFailureWithItsReason) {
  CoreServer server({}, R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},)"
                        R"({"name":"validator-gdcm"},{"name":"metadata-gdcm"},{"name":"render-png"},)"
                        R"({"name":"index-sqlite"},{"name":"dicomweb","config":{"max_instance_mb":1}}]})");
  const std::string study = new_uid(), series = new_uid();
  std::string good = synthetic_series(study, series, 1)[0];
  std::string truncated = test_file("MR_truncated.dcm");
  // Partly stored: 202, the failures with their SOP instance and reason.
  HttpReply partial = stow(server.port(), {good, "not DICOM at all", truncated});
  ASSERT_EQ(partial.status, 202) << partial.body;
  auto d = parse_json(partial.body);
  ASSERT_EQ(d["00081199"]["Value"].Size(), 1u);
  ASSERT_EQ(d["00081198"]["Value"].Size(), 2u);
  const auto& not_dicom = d["00081198"]["Value"][0];
  EXPECT_EQ(not_dicom["00081197"]["Value"][0].GetInt(), 0xC000);
  EXPECT_STREQ(not_dicom["00081197"]["vr"].GetString(), "US");
  EXPECT_NE(std::string(not_dicom["00000902"]["Value"][0].GetString()).find("DICOM"), std::string::npos);
  const auto& cut = d["00081198"]["Value"][1];
  EXPECT_EQ(cut["00081197"]["Value"][0].GetInt(), 0xC000);
  EXPECT_FALSE(first_value(cut, "00081155").empty());  // the instance it names

  // Every instance failed: 409.
  HttpReply none = stow(server.port(), {"junk"});
  EXPECT_EQ(none.status, 409) << none.body;
  // A StudyInstanceUID other than the URL's: refused for that instance.
  HttpReply other = stow(server.port(), {synthetic_series(new_uid(), series, 1)[0]}, "/dicom-web/studies/" + study);
  ASSERT_EQ(other.status, 409);
  EXPECT_EQ(parse_json(other.body)["00081198"]["Value"][0]["00081197"]["Value"][0].GetInt(), 0xA900);
  // Another instance under a stored SOPInstanceUID.
  std::string changed = good;
  changed[changed.size() - 1] ^= 1;
  HttpReply conflict = stow(server.port(), {changed});
  ASSERT_EQ(conflict.status, 409);
  EXPECT_EQ(parse_json(conflict.body)["00081198"]["Value"][0]["00081197"]["Value"][0].GetInt(), 0x0111);
  // A part larger than the limit (max_instance_mb 1).
  HttpReply large = stow(server.port(), {padded_ct(1200 * 1024)});
  ASSERT_EQ(large.status, 409);
  EXPECT_EQ(parse_json(large.body)["00081198"]["Value"][0]["00081197"]["Value"][0].GetInt(), 0xA700);
  // Nothing of the failures was stored.
  EXPECT_EQ(server.stored_files().size(), 1u);
}

TEST(DicomWebStow, RefusesMalformedBodies) {
  CoreServer server;
  std::string ct = test_file("CT_small.dcm");
  auto post = [&](const std::string& body, const std::string& type) {
    return request(server.port(), "POST", "/dicom-web/studies", body, {{"Content-Type", type}});
  };
  std::string body = stow_body({ct}, "b0");
  EXPECT_EQ(post(body, "multipart/related; type=\"application/dicom\"").status, 400);  // no boundary
  EXPECT_EQ(post(body.substr(0, body.size() - 8), "multipart/related; type=\"application/dicom\"; boundary=b0").status,
            400);  // no closing delimiter
  EXPECT_EQ(post(body, "multipart/related; type=\"application/dicom+json\"; boundary=b0").status, 415);
  EXPECT_EQ(post(body, "application/dicom").status, 415);
  EXPECT_EQ(post("--b0--\r\n", "multipart/related; boundary=b0").status, 400);  // no instance
  HttpReply wrong_part = post(stow_body({ct}, "b0", "text/plain; x=\xFF"), "multipart/related; boundary=b0");
  EXPECT_EQ(wrong_part.status, 409);
  EXPECT_NE(wrong_part.body.find("text/plain; x=?"), std::string::npos) << wrong_part.body;
  HttpReply ok = post(body, "multipart/related; type=application/dicom; boundary=b0");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(server.get("/files").status, 200);
}

TEST(DicomWebCors, PreflightsAndAnswersNameTheAllowedOrigin) {
  CoreServer server({}, R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},)"
                        R"({"name":"validator-gdcm"},{"name":"metadata-gdcm"},{"name":"render-png"},)"
                        R"({"name":"index-sqlite"},{"name":"dicomweb","config":{"cors":)"
                        R"({"origins":["http://viewer.test:3000"],"max_age_s":120}}}]})");
  HttpReply pre = request(server.port(), "OPTIONS", "/dicom-web/studies", "",
                          {{"Origin", "http://viewer.test:3000"},
                           {"Access-Control-Request-Method", "GET"},
                           {"Access-Control-Request-Headers", "authorization, accept"}});
  EXPECT_EQ(pre.status, 204) << pre.body;
  EXPECT_EQ(pre.header("access-control-allow-origin"), "http://viewer.test:3000");
  EXPECT_NE(pre.header("access-control-allow-methods").find("GET"), std::string::npos);
  EXPECT_NE(pre.header("access-control-allow-headers").find("Authorization"), std::string::npos);
  EXPECT_EQ(pre.header("access-control-max-age"), "120");
  EXPECT_EQ(request(server.port(), "OPTIONS", kCtPath + "/frames/1", "",
                    {{"Origin", "http://evil.test"}, {"Access-Control-Request-Method", "GET"}})
                .status,
            403);
  EXPECT_EQ(request(server.port(), "OPTIONS", "/dicom-web/studies", "",
                    {{"Origin", "http://viewer.test:3000"}, {"Access-Control-Request-Method", "DELETE"}})
                .status,
            403);
  HttpReply answer = request(server.port(), "GET", "/dicom-web/studies", "", {{"Origin", "http://viewer.test:3000"}});
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.header("access-control-allow-origin"), "http://viewer.test:3000");
  EXPECT_EQ(answer.header("vary"), "Origin");
  // Errors carry it too, so that the page can read why.
  HttpReply missing =
      request(server.port(), "GET", "/dicom-web/studies/1.2.3/metadata", "", {{"Origin", "http://viewer.test:3000"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("access-control-allow-origin"), "http://viewer.test:3000");
  HttpReply foreign = request(server.port(), "GET", "/dicom-web/studies", "", {{"Origin", "http://evil.test"}});
  EXPECT_EQ(foreign.header("access-control-allow-origin"), "");
}

TEST(DicomWebConfig, ABadCorsSettingStopsTheServer) {
  for (std::string_view cors : {R"({"origins":["viewer.test"]})", R"({"origins":"*","credentials":true})",
                                R"({"origins":["*"],"max_age_s":-1})", R"({"origin":["*"]})"}) {
    SCOPED_TRACE(cors);
    TempDir dir;
    write_file(dir.path() / "c.json", R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},)"
                                      R"({"name":"validator-gdcm"},{"name":"metadata-gdcm"},{"name":"render-png"},)"
                                      R"({"name":"index-sqlite"},{"name":"dicomweb","config":{"cors":)" +
                                          std::string(cors) + "}}]}");
    int status = 0;
    std::string out = run_command(std::string(DICOMD_TEST_BIN) + " --check-config " + (dir.path() / "c.json").string() +
                                      " --plugin-dir " + DICOMD_TEST_CORE_PLUGIN_DIR + " 2>&1",
                                  &status);
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("cors"), std::string::npos) << out;
  }
}
