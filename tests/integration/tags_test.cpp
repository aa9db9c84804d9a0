// GET /files/:study/:file/tag and /tags.
#include <gtest/gtest.h>

#include "core_server.h"

using namespace dicomd::test;

namespace {

class Tags : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<CoreServer>();
    std::vector<std::filesystem::path> files;
    for (const char* name : {"CT_small.dcm", "rtplan.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
                             "JPEG2000.dcm", "priv_SQ.dcm"})
      files.push_back(pydicom_data_dir() / "test_files" / name);
    ASSERT_EQ(server_->upload_paths("Test", files).status, 201);
  }
  static void TearDownTestSuite() { server_.reset(); }
  static HttpReply get(const std::string& target) { return server_->get(target); }
  static std::unique_ptr<CoreServer> server_;
};
std::unique_ptr<CoreServer> Tags::server_;

}  // namespace

TEST_F(Tags, OriginalShapeInRequestOrder) {
  auto r = get("/files/Test/CT_small.dcm/tag?tag=(0028,0011)&tag=(0028,0010)");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"j({"file":"CT_small.dcm","study":"Test","success":true,"tags":[)j"
                    R"j({"VM":1,"VR":"US","keyword":"Columns","name":"Columns","tag":"(0028,0011)","value":128},)j"
                    R"j({"VM":1,"VR":"US","keyword":"Rows","name":"Rows","tag":"(0028,0010)","value":128}]})j");
}

TEST_F(Tags, EverySpellingOfATagIsAccepted) {
  std::string expected;
  for (const char* spelling : {"(0028,0010)", "0028,0010", "00280010", "Rows", "%280028%2C0010%29", "(0028,%200010)"}) {
    auto r = get(std::string("/files/Test/CT_small.dcm/tag?tag=") + spelling);
    EXPECT_EQ(r.status, 200) << spelling;
    if (expected.empty()) expected = r.body;
    EXPECT_EQ(r.body, expected) << spelling;
  }
}

TEST_F(Tags, ValuesFollowTheVrRules) {
  auto d = parse_json(get("/files/Test/CT_small.dcm/tag?tag=PixelSpacing&tag=PatientName&tag=ImageType&tag="
                          "WindowCenter&tag=SOPInstanceUID&tag=ImagePositionPatient&tag=InstanceNumber")
                          .body);
  const auto& t = d["tags"];
  ASSERT_EQ(t.Size(), 7u);
  EXPECT_EQ(t[0]["VM"].GetInt(), 2);
  EXPECT_DOUBLE_EQ(t[0]["value"][1].GetDouble(), 0.661468);
  EXPECT_STREQ(t[1]["value"].GetString(), "CompressedSamples^CT1");
  EXPECT_STREQ(t[2]["value"][2].GetString(), "AXIAL");
  EXPECT_TRUE(t[3]["value"].IsNull());  // not in the file
  EXPECT_EQ(t[3]["VM"].GetInt(), 0);
  EXPECT_STREQ(t[3]["VR"].GetString(), "DS");
  EXPECT_STREQ(t[4]["value"].GetString(), "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322");
  EXPECT_DOUBLE_EQ(t[5]["value"][2].GetDouble(), -75.699997);
  EXPECT_TRUE(t[6]["value"].IsInt());
}

TEST_F(Tags, ImplicitAndBigEndianFilesGiveTheSameValues) {
  std::string q = "/tag?tag=Rows&tag=PixelSpacing&tag=PatientName&tag=SliceThickness&tag=BitsAllocated";
  auto implicit = parse_json(get("/files/Test/MR_small_implicit.dcm" + q).body);
  auto big = parse_json(get("/files/Test/MR_small_bigendian.dcm" + q).body);
  ASSERT_TRUE(implicit.IsObject() && big.IsObject());
  EXPECT_TRUE(implicit["tags"] == big["tags"]);
  EXPECT_EQ(implicit["tags"][0]["value"].GetInt(), 64);
  EXPECT_STREQ(implicit["tags"][0]["VR"].GetString(), "US");  // from the dictionary
}

TEST_F(Tags, EmptyOrMissingTagParameterIs400) {
  for (const char* q : {"", "?tag=", "?tag=&tag=", "?other=1"}) {
    auto r = get(std::string("/files/Test/CT_small.dcm/tag") + q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(r.body, R"({"error":"tag query parameter is empty","success":false})") << q;
  }
}

TEST_F(Tags, InvalidTagsAreAllListedInOrder) {
  auto r = get("/files/Test/CT_small.dcm/tag?tag=(2222,2222)&tag=Rows&tag=NoSuchKeyword&tag=(0028,001)&tag=zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"j({"invalidTags":["(2222,2222)","NoSuchKeyword","(0028,001)","zz"],"success":false})j");
  // A spelling that is not UTF-8 is listed with U+FFFD: the answer stays JSON.
  r = get("/files/Test/CT_small.dcm/tag?tag=%FFRows");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "{\"invalidTags\":[\"\xef\xbf\xbdRows\"],\"success\":false}");
}

TEST_F(Tags, UnknownFileOrStudyIs404) {
  for (const char* target :
       {"/files/Test/nope/tag?tag=Rows", "/files/Nope/CT_small.dcm/tag?tag=Rows", "/files/Test/nope/tags"}) {
    auto r = get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body, R"({"error":"file not found","success":false})");
  }
}

TEST_F(Tags, AllTagsIncludeMetaAndPixelDataLength) {
  auto r = get("/files/Test/CT_small.dcm/tags");
  ASSERT_EQ(r.status, 200);
  auto d = parse_json(r.body);
  const auto& tags = d["tags"];
  EXPECT_GT(tags.Size(), 100u);
  EXPECT_STREQ(tags[0]["tag"].GetString(), "(0002,0000)");
  const auto& last = tags[tags.Size() - 1];
  EXPECT_STREQ(last["tag"].GetString(), "(7FE0,0010)");
  EXPECT_TRUE(last["value"].IsNull());
  EXPECT_EQ(last["length"].GetUint(), 32768u);
  for (const auto& t : tags.GetArray())
    for (const char* key : {"VM", "VR", "keyword", "name", "tag", "value"}) EXPECT_TRUE(t.HasMember(key)) << key;
}

TEST_F(Tags, EncapsulatedPixelDataHasItsLength) {
  auto d = parse_json(get("/files/Test/JPEG2000.dcm/tag?tag=PixelData").body);
  EXPECT_STREQ(d["tags"][0]["VR"].GetString(), "OB");
  EXPECT_EQ(d["tags"][0]["length"].GetUint(), 274u);  // items 8+0, 8+250, delimiter 8 (as dcmdump shows)
}

TEST_F(Tags, SequencesAreArraysOfItemsKeyedByTag) {
  auto d = parse_json(get("/files/Test/rtplan.dcm/tag?tag=BeamSequence").body);
  const auto& seq = d["tags"][0];
  EXPECT_STREQ(seq["VR"].GetString(), "SQ");
  ASSERT_TRUE(seq["value"].IsArray());
  ASSERT_GE(seq["value"].Size(), 1u);
  const auto& item = seq["value"][0];
  ASSERT_TRUE(item.HasMember("(300A,00C2)"));  // BeamName
  EXPECT_STREQ(item["(300A,00C2)"]["keyword"].GetString(), "BeamName");
  EXPECT_TRUE(item["(300A,00C2)"]["value"].IsString());
}

TEST_F(Tags, PrivateTagsAreNamedThroughTheirCreator) {
  auto all = parse_json(get("/files/Test/priv_SQ.dcm/tags").body);
  ASSERT_TRUE(all.IsObject());
  bool found_private = false;
  for (const auto& t : all["tags"].GetArray()) {
    std::string tag = t["tag"].GetString();
    int group = std::stoi(tag.substr(1, 4), nullptr, 16);
    if (group % 2 == 1) found_private = true;
  }
  EXPECT_TRUE(found_private);
}

TEST_F(Tags, SmallBinaryValuesAreBase64) {
  auto d = parse_json(get("/files/Test/CT_small.dcm/tag?tag=FileMetaInformationVersion").body);
  EXPECT_STREQ(d["tags"][0]["VR"].GetString(), "OB");
  EXPECT_STREQ(d["tags"][0]["value"].GetString(), "AAE=");
}

TEST_F(Tags, ACachedHeaderNeverOutlivesItsFile) {
  auto upload_as = [&](const char* source) {
    auto bytes = read_file(pydicom_data_dir() / "test_files" / source);
    return server_->upload("Cache", {{"files", "same.dcm", bytes}}).status;
  };
  const std::string lookup = "/files/Cache/same.dcm/tag?tag=Modality&tag=Rows";
  ASSERT_EQ(upload_as("CT_small.dcm"), 201);
  for (int i = 0; i < 3; ++i) EXPECT_NE(get(lookup).body.find(R"("value":"CT")"), std::string::npos);  // now cached
  // Deleted and stored again under the same name within milliseconds: the
  // next lookups describe the new file, and a deleted file is 404.
  ASSERT_EQ(server_->del("/files/Cache/same.dcm").status, 200);
  EXPECT_EQ(get(lookup).status, 404);
  ASSERT_EQ(upload_as("MR_small.dcm"), 201);
  auto r = get(lookup);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("value":"MR")"), std::string::npos) << r.body;
  EXPECT_EQ(get("/files/Cache/same.dcm/tags").body.find(R"("value":"CT")"), std::string::npos);
}

// Bytes that reached the data folder by other means than an upload (a
// restore, a copy) are parsed in an isolated worker too: this 134-byte file
// (128 zeros, DICM, 2 bytes) made GDCM abort the whole server on /tags.
TEST_F(Tags, AFilePlacedInTheFolderByHandCannotKillTheServer) {
  server_->store_by_hand("byhand", "evil.dcm", std::string(128, '\0') + "DICM" + std::string(2, '\x02'));
  for (const char* route : {"/tags", "/tag?tag=PatientName"}) {
    auto r = get(std::string("/files/byhand/evil.dcm") + route);
    EXPECT_EQ(r.status, 422) << route;
    EXPECT_EQ(r.body.rfind(R"({"error":"the stored file cannot be read as DICOM)", 0), 0u) << r.body;
  }
  EXPECT_EQ(get("/health").status, 200);
  EXPECT_EQ(get("/files/Test/CT_small.dcm/tag?tag=Rows").status, 200);
}
