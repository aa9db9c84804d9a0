// POST /upload and POST /validate of the original API (docs/api.md).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "core_server.h"

using namespace dicomd::test;

namespace {

std::string pydicom(const std::string& name) {
  return read_file(pydicom_data_dir() / "test_files" / name);
}

std::set<std::string> names_of(const rapidjson::Value& array) {
  std::set<std::string> out;
  for (const auto& v : array.GetArray()) out.insert(v.IsString() ? v.GetString() : v["name"].GetString());
  return out;
}

std::string reason_of(const rapidjson::Document& d, const std::string& name) {
  for (const auto& f : d["files"].GetArray())
    if (name == f["name"].GetString()) return f["reason"].GetString();
  return "";
}

}  // namespace

TEST(Upload, FormAtRootPostsStudyAndFiles) {
  CoreServer server;
  auto r = server.get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find(R"(action="/upload")"), std::string::npos);
  EXPECT_NE(r.body.find(R"(enctype="multipart/form-data")"), std::string::npos);
  EXPECT_NE(r.body.find(R"(name="study")"), std::string::npos);
  EXPECT_NE(r.body.find(R"(name="files" multiple)"), std::string::npos);
}

TEST(Upload, AllStoredIs201WithTheOriginalShape) {
  CoreServer server;
  auto r = server.upload("iraj-x-ray", {{"files", "MR_small.dcm", pydicom("MR_small.dcm")},
                                        {"files", "CT_small.dcm", pydicom("CT_small.dcm")}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"failedFiles":0,"files":[],"stored":["MR_small.dcm","CT_small.dcm"],"storedFiles":2,)"
                    R"("study":"iraj-x-ray","success":true})");
  EXPECT_EQ(server.stored_files(), (std::vector<std::string>{"iraj-x-ray/CT_small.dcm", "iraj-x-ray/MR_small.dcm"}));
  EXPECT_EQ(server.stored_bytes("iraj-x-ray", "CT_small.dcm"), pydicom("CT_small.dcm"));
}

TEST(Upload, EveryPydicomFileInOneRequest) {
  CoreServer server;
  auto files = pydicom_files();
  auto r = server.upload_paths("pydicom", files);
  ASSERT_EQ(r.status, 422) << r.body;  // a few of pydicom's files are deliberately broken
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.IsObject()) << r.body;
  EXPECT_FALSE(d["success"].GetBool());
  EXPECT_EQ(d["storedFiles"].GetUint() + d["failedFiles"].GetUint(), files.size());
  EXPECT_GE(d["storedFiles"].GetUint(), 70u);
  for (const auto& f : d["files"].GetArray()) {
    EXPECT_STREQ(f["reason"].GetString(), "invalid_type") << f["name"].GetString();
    EXPECT_GT(std::string(f["detail"].GetString()).size(), 3u);
  }
  for (const char* bad : {"MR_truncated.dcm", "rtplan_truncated.dcm", "no_meta.dcm"})
    EXPECT_EQ(reason_of(d, bad), "invalid_type") << bad;
  for (const char* good : {"CT_small.dcm", "MR_small_bigendian.dcm", "JPEG2000.dcm", "chrH31.dcm", "image_dfl.dcm"})
    EXPECT_TRUE(names_of(d["stored"]).count(good)) << good;
  // The server survived every file (GDCM aborts on some) and lists exactly what it stored.
  EXPECT_EQ(server.get("/health").status, 200);
  auto listing = parse_json(server.get("/files/pydicom").body);
  EXPECT_EQ(names_of(listing["files"]), names_of(d["stored"]));
  EXPECT_TRUE(server.leftovers().empty());
}

TEST(Upload, DuplicateNameIsRejectedAndTheStoredFileKept) {
  CoreServer server;
  ASSERT_EQ(server.upload("s", {{"files", "IM000001", pydicom("CT_small.dcm")}}).status, 201);
  auto r = server.upload("s", {{"files", "IM000001", pydicom("MR_small.dcm")}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body,
            R"({"failedFiles":1,"files":[{"detail":"a file of this name is already stored in the study",)"
            R"("name":"IM000001","reason":"duplicate"}],"stored":[],"storedFiles":0,"study":"s","success":false})");
  EXPECT_EQ(server.stored_bytes("s", "IM000001"), pydicom("CT_small.dcm"));
}

TEST(Upload, ContentDecidesNotTheExtension) {
  CoreServer server;
  std::string ct = pydicom("CT_small.dcm");
  auto r = server.upload("s", {{"files", "sample.pdf", "%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"},
                               {"files", "empty.dcm", ""},
                               {"files", "text.dcm", "hello, this is not DICOM\n"},
                               {"files", "preamble.dcm", std::string(128, '\0') + "DICM"},
                               {"files", "cut-header.dcm", ct.substr(0, 300)},
                               {"files", "cut-pixels.dcm", ct.substr(0, ct.size() - 1000)},
                               {"files", "IM-no-extension", ct}});
  ASSERT_EQ(r.status, 422);
  auto d = parse_json(r.body);
  EXPECT_EQ(d["failedFiles"].GetUint(), 6u);
  for (const char* name : {"sample.pdf", "empty.dcm", "text.dcm", "preamble.dcm", "cut-header.dcm", "cut-pixels.dcm"})
    EXPECT_EQ(reason_of(d, name), "invalid_type") << name;
  EXPECT_NE(r.body.find(R"("detail":"empty file")"), std::string::npos);
  EXPECT_NE(r.body.find("not DICOM: the content is a PDF document"), std::string::npos);
  EXPECT_EQ(server.stored_files(), (std::vector<std::string>{"s/IM-no-extension"}));
  EXPECT_EQ(server.get("/health").status, 200);
}

TEST(Upload, ClientPathsAreReducedToBaseNamesAndBadNamesRejected) {
  CoreServer server;
  std::string ct = pydicom("CT_small.dcm");
  auto r = server.upload("s", {{"files", "../../evil.dcm", ct},
                               {"files", "C:\\scans\\IM1", ct},
                               {"files", "IM 2+é.dcm", ct},
                               {"files", ".hidden", ct},
                               {"files", "bad\x01name", ct},
                               {"files", "..", ct},
                               {"files", "latin1-\xe9", ct},
                               {"files", std::string(256, 'a'), ct}});
  EXPECT_EQ(r.status, 422);
  auto d = parse_json(r.body);
  EXPECT_EQ(names_of(d["stored"]), (std::set<std::string>{"evil.dcm", "IM1", "IM 2+é.dcm"}));
  EXPECT_EQ(d["failedFiles"].GetUint(), 5u);
  for (const auto& f : d["files"].GetArray()) EXPECT_STREQ(f["reason"].GetString(), "invalid_name");
  // Nothing outside the study (and in the data folder, nothing but the
  // host's lock file and the index).
  EXPECT_EQ(server.stored_files(), (std::vector<std::string>{"s/IM 2+é.dcm", "s/IM1", "s/evil.dcm"}));
  std::vector<std::string> written;
  for (const auto& f : files_under(server.data_dir()))
    if (f.rfind("index.sqlite3", 0) != 0 && f.rfind("studies/", 0) != 0) written.push_back(f);
  EXPECT_EQ(written, (std::vector<std::string>{"dicomd.lock"}));
}

TEST(Upload, BadRequestsAreRejectedAndWriteNothing) {
  CoreServer server;
  std::string ct = pydicom("CT_small.dcm");
  for (const std::string& study :
       std::vector<std::string>{"..", ".x", "a/b", "a\\b", std::string("nul\0x", 5), std::string(256, 's')}) {
    auto r = server.upload(study, {{"files", "IM1", ct}});
    EXPECT_EQ(r.status, 400) << study;
    EXPECT_EQ(r.body, R"({"error":"invalid study name","success":false})");
  }
  EXPECT_EQ(server.upload("", {{"files", "IM1", ct}}).body, R"({"error":"missing study field","success":false})");
  auto [type, body] = multipart_body({{"study", "s"}}, {});
  auto no_files = request(server.port(), "POST", "/upload", body, {{"Content-Type", type}});
  EXPECT_EQ(no_files.status, 400);
  EXPECT_EQ(no_files.body, R"({"error":"no files part in the form","success":false})");
  auto [type2, body2] = multipart_body({}, {{"files", "IM1", ct}});
  EXPECT_EQ(request(server.port(), "POST", "/upload", body2, {{"Content-Type", type2}}).status, 400);
  auto malformed = request(server.port(), "POST", "/upload", "--x\r\nnonsense",
                           {{"Content-Type", "multipart/form-data; boundary=x"}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.body, R"({"error":"malformed multipart body","success":false})");
  auto json = request(server.port(), "POST", "/upload", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(json.status, 415);
  EXPECT_TRUE(server.stored_files().empty());
}

TEST(Upload, BodyOverTheLimitIs413) {
  CoreServer server({}, R"({"listen":"127.0.0.1:0","max_body_mb":1})");
  Connection c(server.port());
  auto [type, body] = multipart_body({{"study", "s"}}, {{"files", "big", std::string(2 << 20, 'x')}});
  c.send_raw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  auto r = c.read_reply(std::chrono::seconds(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"error":"request body too large","success":false})");
  EXPECT_TRUE(server.stored_files().empty());
}

TEST(Upload, PerFileLimitGivesTooLarge) {
  CoreServer server(
      {}, R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files","config":{"max_file_mb":1}},)"
          R"({"name":"validator-gdcm"},{"name":"metadata-gdcm"},{"name":"render-png"}]})");
  auto r = server.upload(
      "s", {{"files", "big.dcm", std::string((1 << 20) + 1, 'x')}, {"files", "ct.dcm", pydicom("CT_small.dcm")}});
  EXPECT_EQ(r.status, 422);
  auto d = parse_json(r.body);
  EXPECT_EQ(reason_of(d, "big.dcm"), "too_large");
  EXPECT_EQ(names_of(d["stored"]), std::set<std::string>{"ct.dcm"});
}

TEST(Upload, TwoClientsUploadingOneNameAtOnceStoreExactlyOne) {
  CoreServer server;
  std::string a = pydicom("CT_small.dcm"), b = pydicom("MR_small.dcm");
  for (int round = 0; round < 50; ++round) {
    std::string study = "race-" + std::to_string(round);
    std::atomic<int> created{0}, duplicate{0};
    auto client = [&](const std::string& data) {
      auto r = server.upload(study, {{"files", "same.dcm", data}});
      if (r.status == 201) ++created;
      if (r.status == 422 && r.body.find(R"("reason":"duplicate")") != std::string::npos) ++duplicate;
    };
    std::thread t1(client, a), t2(client, b);
    t1.join();
    t2.join();
    ASSERT_EQ(created.load(), 1) << "round " << round;
    ASSERT_EQ(duplicate.load(), 1) << "round " << round;
    std::string stored = server.stored_bytes(study, "same.dcm");
    ASSERT_TRUE(stored == a || stored == b) << "round " << round << ": mixed or truncated file";
  }
  EXPECT_TRUE(server.leftovers().empty());
}

TEST(Upload, WithoutTheValidatorUploadsAre503) {
  CoreServer server({"--disable", "validator-gdcm"});
  auto r = server.upload("s", {{"files", "IM1", pydicom("CT_small.dcm")}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":"uploads need the validator-gdcm plugin, which is disabled","success":false})");
}

TEST(Validate, RawBodyAndMultipart) {
  CoreServer server;
  auto ok =
      request(server.port(), "POST", "/validate", pydicom("CT_small.dcm"), {{"Content-Type", "application/dicom"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"valid":true,"success":true})");
  auto bad = request(server.port(), "POST", "/validate", "plain text", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(bad.body, R"({"reason":"not a DICOM file","valid":false,"success":true})");
  auto [type, body] = multipart_body({}, {{"files", "a.dcm", pydicom("MR_small.dcm")}, {"files", "b.txt", "x"}});
  auto multi = request(server.port(), "POST", "/validate", body, {{"Content-Type", type}});
  EXPECT_EQ(multi.body,
            R"({"files":[{"name":"a.dcm","valid":true},{"name":"b.txt","reason":"not a DICOM file","valid":false}],)"
            R"("success":true})");
  EXPECT_EQ(request(server.port(), "POST", "/validate", "", {}).status, 400);
  EXPECT_TRUE(server.stored_files().empty());  // validation never stores
}
