// GET /files, GET /files/:study, GET and DELETE of files and studies, on the in-process host.
#include <gtest/gtest.h>

#include <thread>

#include <mutex>

#include <atomic>

#include "core_server.h"
#include "test_host.h"

using namespace dicomd::test;

namespace {

std::string pydicom(const std::string& name) {
  return read_file(pydicom_data_dir() / "test_files" / name);
}

}  // namespace

TEST(Files, ListsAreSortedInTheOriginalShape) {
  CoreHost server;
  EXPECT_EQ(server.get("/files").body, R"({"studies":[],"studiesCount":0,"success":true})");
  ASSERT_EQ(server
                .upload("b-study", {{"files", "IM000020", pydicom("MR_small.dcm")},
                                    {"files", "IM000001", pydicom("CT_small.dcm")}})
                .status,
            201);
  ASSERT_EQ(server.upload("a-study", {{"files", "x", pydicom("CT_small.dcm")}}).status, 201);
  auto studies = server.get("/files");
  EXPECT_EQ(studies.status, 200);
  EXPECT_EQ(studies.header("content-type"), "application/json");
  EXPECT_EQ(studies.body, R"({"studies":["a-study","b-study"],"studiesCount":2,"success":true})");
  EXPECT_EQ(server.get("/files/b-study").body,
            R"({"files":["IM000001","IM000020"],"filesCount":2,"study":"b-study","success":true})");
}

// Media types are case-insensitive (RFC 9110 8.3.1).
TEST(Files, UploadMediaTypeIsCaseInsensitive) {
  CoreHost server;
  auto [type, body] = multipart_body({{"study", "s"}}, {{"files", "IM1", pydicom("CT_small.dcm")}});
  std::string mixed = "Multipart/Form-Data" + type.substr(std::string("multipart/form-data").size());
  auto r = server.request("POST", "/upload", body, {{"Content-Type", mixed}});
  EXPECT_EQ(r.status, 201) << r.body;
}

// A second, look-alike name for a stored one (NFD beside NFC), or one shown
// reordered (a right-to-left override), is refused, in a path or an upload.
TEST(Files, LookAlikeNamesAreRefused) {
  CoreHost server;
  std::string ct = pydicom("CT_small.dcm");
  ASSERT_EQ(server.upload("s", {{"files", "caf\xc3\xa9.dcm", ct}}).status, 201);
  for (std::string bad : {std::string("cafe\xcc\x81.dcm"), std::string("x\xe2\x80\xae") + "mcd.exe"}) {
    auto r = server.upload("s", {{"files", bad, ct}});
    EXPECT_EQ(r.status, 422) << bad;
    EXPECT_NE(r.body.find(R"("reason":"invalid_name")"), std::string::npos) << r.body;
  }
  EXPECT_EQ(server.get("/files/s/cafe%CC%81.dcm").status, 400);
  EXPECT_EQ(server.get("/files/s").body, R"({"files":["café.dcm"],"filesCount":1,"study":"s","success":true})");
}

// Beyond the generic combining marks: any spelling that NFC would change is
// refused (Hangul written as jamo; क़ U+0958, which NFC writes as क + ◌़),
// and the NFC spelling of each is stored.
TEST(Files, OnlyTheNfcSpellingOfANameIsStored) {
  CoreHost server;
  std::string ct = pydicom("CT_small.dcm");
  const std::string hangul_jamo = "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab";  // ᄒ ᅡ ᆫ
  const std::string hangul_syllable = "\xed\x95\x9c";                      // 한
  const std::string qa_excluded = "\xe0\xa5\x98";                          // U+0958
  const std::string qa_nfc = "\xe0\xa4\x95\xe0\xa4\xbc";                   // U+0915 U+093C
  for (const std::string& bad : {hangul_jamo, qa_excluded}) {
    auto r = server.upload("s", {{"files", bad + ".dcm", ct}});
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_NE(r.body.find("not in Unicode NFC form"), std::string::npos) << r.body;
    auto study = server.upload(bad, {{"files", "x.dcm", ct}});
    EXPECT_EQ(study.status, 400) << study.body;
    EXPECT_NE(study.body.find("invalid study name: not in Unicode NFC form"), std::string::npos) << study.body;
  }
  for (const std::string& good : {hangul_syllable, qa_nfc})
    EXPECT_EQ(server.upload("s", {{"files", good + ".dcm", ct}}).status, 201) << good;
  auto list = server.get("/files/s");
  EXPECT_NE(list.body.find(R"("filesCount":2)"), std::string::npos) << list.body;
}

// Deleting a study while uploads land in it: 13 of 60 uploads failed with
// storage_error and deletes answered 500 once. An upload now lands wholly
// before a delete (and goes with it) or after it; neither side fails.
TEST(Files, DeletingAStudyDuringUploadsFailsNeither) {
  CoreHost server;
  std::string ct = pydicom("CT_small.dcm");
  std::atomic<bool> uploading{true};
  std::mutex mutex;
  std::vector<std::string> problems;
  std::vector<std::thread> uploaders;
  for (int t = 0; t < 4; ++t)
    uploaders.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        auto r = server.upload("r", {{"files", std::to_string(t) + "-" + std::to_string(i), ct}});
        std::lock_guard lock(mutex);
        if (r.status != 201) problems.push_back("upload " + std::to_string(r.status) + " " + r.body);
      }
    });
  std::thread deleter([&] {
    int deletes = 0;
    while (uploading || deletes < 3) {
      auto r = server.del("/files/r");
      ++deletes;
      std::lock_guard lock(mutex);
      if (r.status != 200 && r.status != 404) problems.push_back("delete " + std::to_string(r.status) + " " + r.body);
    }
  });
  for (auto& t : uploaders) t.join();
  uploading = false;
  deleter.join();
  EXPECT_TRUE(problems.empty()) << problems.size() << " failed, first: " << problems.front();
  EXPECT_TRUE(files_under(server.studies_dir() / ".tmp").empty());
}

// ETags and cache keys were size + mtime: on a filesystem with 1-second
// timestamps a same-size replacement got 304 for the file and the PNG, and
// /tag kept the old patient name. They are the content's hash now. The
// replacement here is given the old file's mtime, as such a filesystem would.
TEST(Files, ASameSizeReplacementInTheSameTickIsSeen) {
  CoreHost server;
  std::string before = pydicom("CT_small.dcm"), after = before;
  size_t at = after.find("CompressedSamples^CT1");
  ASSERT_NE(at, std::string::npos);
  after.replace(at, 21, "CompressedSamples^CT2");  // same size, another patient
  ASSERT_EQ(server.upload("s", {{"files", "f.dcm", before}}).status, 201);
  auto path = server.studies_dir() / "s" / "f.dcm";
  auto mtime = std::filesystem::last_write_time(path);
  std::string file_etag = server.get("/files/s/f.dcm").header("etag");
  std::string png_etag = server.get("/files/s/f.dcm/png").header("etag");
  EXPECT_NE(server.get("/files/s/f.dcm/tag?tag=PatientName").body.find("CT1"), std::string::npos);

  ASSERT_EQ(server.del("/files/s/f.dcm").status, 200);
  ASSERT_EQ(server.upload("s", {{"files", "f.dcm", after}}).status, 201);
  std::filesystem::last_write_time(path, mtime);  // the same tick, to the nanosecond

  EXPECT_EQ(server.get("/files/s/f.dcm", {{"If-None-Match", file_etag}}).status, 200);
  EXPECT_EQ(server.get("/files/s/f.dcm/png", {{"If-None-Match", png_etag}}).status, 200);
  EXPECT_NE(server.get("/files/s/f.dcm/tag?tag=PatientName").body.find("CT2"), std::string::npos);
  EXPECT_EQ(file_etag.size(), 34u);  // "<32 hex digits of XXH3-128>"
}

TEST(Files, UnknownStudyAndFileAre404) {
  CoreHost server;
  auto study = server.get("/files/nope");
  EXPECT_EQ(study.status, 404);
  EXPECT_EQ(study.body, R"({"error":"study not found","success":false})");
  auto file = server.get("/files/nope/IM1");
  EXPECT_EQ(file.status, 404);
  EXPECT_EQ(file.body, R"({"error":"file not found","success":false})");
}

TEST(Files, DownloadIsTheStoredBytesWithCaching) {
  CoreHost server;
  std::string ct = pydicom("CT_small.dcm");
  ASSERT_EQ(server.upload("s", {{"files", "IM1", ct}}).status, 201);
  auto r = server.get("/files/s/IM1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/dicom");
  EXPECT_EQ(r.body, ct);
  std::string etag = r.header("etag");
  ASSERT_FALSE(etag.empty());
  auto again = server.request("GET", "/files/s/IM1", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
}

TEST(Files, NamesArePercentDecodedOnce) {
  CoreHost server;
  std::string study = "my study é+", file = "IM 1+é%41.dcm";
  ASSERT_EQ(server.upload(study, {{"files", file, pydicom("CT_small.dcm")}}).status, 201);
  auto list = server.get("/files/" + url_encode(study));
  EXPECT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("\"IM 1+é%41.dcm\""), std::string::npos) << list.body;
  EXPECT_EQ(server.get("/files/" + url_encode(study) + "/" + url_encode(file)).status, 200);
  // Decoded once only: "%2541" is "%41", not "A".
  EXPECT_EQ(server.get("/files/" + url_encode(study) + "/IM%201%2B%C3%A9A.dcm").status, 404);
}

TEST(Files, InvalidNamesInThePathAre400) {
  CoreHost server;
  EXPECT_EQ(server.get("/files/%2E%2E").status, 400);
  EXPECT_EQ(server.get("/files/%2E%2E").body, R"({"error":"invalid study name","success":false})");
  EXPECT_EQ(server.get("/files/s/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd").status, 400);
  EXPECT_EQ(server.get("/files/.tmp").status, 400);
  EXPECT_EQ(server.get("/files/a%00b").status, 400);
  EXPECT_EQ(server.del("/files/%2E%2E").status, 400);
}

TEST(Files, SymlinksInsideTheDataFolderAreNotFollowed) {
  CoreHost server;
  ASSERT_EQ(server.upload("s", {{"files", "IM1", pydicom("CT_small.dcm")}}).status, 201);
  std::filesystem::create_directory_symlink("/etc", server.studies_dir() / "etc-link");
  std::filesystem::create_symlink("/etc/hostname", server.studies_dir() / "s" / "host-link");
  EXPECT_EQ(server.get("/files").body, R"({"studies":["s"],"studiesCount":1,"success":true})");
  EXPECT_EQ(server.get("/files/etc-link").status, 404);
  EXPECT_EQ(server.get("/files/etc-link/hostname").status, 404);
  EXPECT_EQ(server.get("/files/s/host-link").status, 404);
  EXPECT_EQ(server.get("/files/s").body, R"({"files":["IM1"],"filesCount":1,"study":"s","success":true})");
  EXPECT_EQ(server.del("/files/s/host-link").status, 404);
  EXPECT_TRUE(std::filesystem::exists("/etc/hostname"));
}

TEST(Files, DeleteFileThenStudy) {
  CoreHost server;
  ASSERT_EQ(
      server.upload("s", {{"files", "IM1", pydicom("CT_small.dcm")}, {"files", "IM2", pydicom("MR_small.dcm")}}).status,
      201);
  auto del = server.del("/files/s/IM1");
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, R"({"deleted":"IM1","study":"s","success":true})");
  EXPECT_EQ(server.get("/files/s/IM1").status, 404);
  EXPECT_EQ(server.del("/files/s/IM1").status, 404);
  auto study = server.del("/files/s");
  EXPECT_EQ(study.status, 200);
  EXPECT_EQ(study.body, R"({"deletedFiles":1,"study":"s","success":true})");
  EXPECT_EQ(server.get("/files/s").status, 404);
  EXPECT_EQ(server.del("/files/s").status, 404);
  EXPECT_EQ(files_under(server.studies_dir()), std::vector<std::string>{});
}
