#include <gtest/gtest.h>

#include <gdcmWriter.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

#include "charset.h"
#include "dicom_files.h"
#include "server_process.h"
#include "dictionary.h"
#include "header_cache.h"
#include "metadata.h"
#include "tag_json.h"

using namespace dicomd::metadata;

TEST(TagSpec, EverySpelling) {
  for (const char* s : {"(0028,0010)", "0028,0010", "00280010", "Rows", "(0028, 0010)", "(0028,0010) ", "(0028,0010)"})
    EXPECT_EQ(parse_tag_spec(s), gdcm::Tag(0x0028, 0x0010)) << s;
  EXPECT_EQ(parse_tag_spec("7fe00010"), gdcm::Tag(0x7fe0, 0x0010));
  for (const char* s : {"", "Rowz", "(0028,001)", "0028001", "(zz28,0010)", "(0028,0010", "0028,0010,1"})
    EXPECT_FALSE(parse_tag_spec(s)) << s;
}

TEST(TagSpec, DictionaryMembership) {
  EXPECT_TRUE(is_public_dictionary_tag(gdcm::Tag(0x0028, 0x0010)));
  EXPECT_TRUE(is_public_dictionary_tag(gdcm::Tag(0x0028, 0x0000)));  // group length
  EXPECT_TRUE(is_public_dictionary_tag(gdcm::Tag(0x6002, 0x3000)));  // overlay data, repeating group
  EXPECT_FALSE(is_public_dictionary_tag(gdcm::Tag(0x2222, 0x2222)));
  EXPECT_FALSE(is_public_dictionary_tag(gdcm::Tag(0x0009, 0x0010)));  // private
  EXPECT_EQ(lookup(gdcm::Tag(0x0010, 0x0010)).keyword, "PatientName");
  EXPECT_EQ(tag_string(gdcm::Tag(0x7fe0, 0x0010)), "(7FE0,0010)");
}

TEST(Charset, SingleByteSetsAndUtf8) {
  EXPECT_EQ(CharsetDecoder({"ISO_IR 100"}).decode("Buc^J\xe9r\xf4me"), "Buc^Jérôme");
  EXPECT_EQ(CharsetDecoder({"ISO_IR 144"}).decode("\xbb\xee\xda"), "Люк");
  EXPECT_EQ(CharsetDecoder({"ISO_IR 192"}).decode("\xe7\x8e\x8b"), "王");
  EXPECT_EQ(CharsetDecoder().decode("plain"), "plain");
}

TEST(Charset, Iso2022Japanese) {
  // "Yamada^Tarou=" then JIS X 0208 kanji via ESC $ B, back to ASCII via ESC ( B.
  std::string raw = "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B";
  EXPECT_EQ(CharsetDecoder({"", "ISO 2022 IR 87"}).decode(raw, true), "Yamada^Tarou=山田^太郎");
}

TEST(Charset, InvalidBytesBecomeReplacementCharacters) {
  std::string out = CharsetDecoder({"ISO_IR 192"}).decode("ok\xff");
  EXPECT_EQ(out, "ok\xEF\xBF\xBD");
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

namespace {
std::shared_ptr<const dicomd::metadata::ParsedHeader> header_with(size_t elements) {
  auto h = std::make_shared<dicomd::metadata::ParsedHeader>();
  for (size_t i = 0; i < elements; ++i) h->add(static_cast<uint32_t>(i), std::string(100, 'x'));
  h->finish();
  return h;
}
}  // namespace

TEST(HeaderCache, HitOnlyForTheSameVersion) {
  dicomd::metadata::HeaderCache cache(1 << 20);
  auto h = header_with(3);
  cache.insert("s/a", FileVersion{100, 7, {}}, 0, h);
  EXPECT_EQ(cache.find_unchanged("s/a", 0), h);                 // nothing removed since: no stat needed
  EXPECT_EQ(cache.find_unchanged("s/a", 1), nullptr);           // something was removed: check the version
  EXPECT_EQ(cache.find("s/a", FileVersion{100, 7, {}}, 1), h);  // same file: checked again at 1
  EXPECT_EQ(cache.find_unchanged("s/a", 1), h);
  EXPECT_EQ(cache.find("s/a", FileVersion{100, 8, {}}, 2), nullptr);  // stored again: stale, dropped
  EXPECT_EQ(cache.find("s/a", FileVersion{100, 7, {}}, 2), nullptr);
  EXPECT_EQ(cache.entries(), 0u);
}

TEST(HeaderCache, StaysWithinItsBytesEvictingTheLeastRecentlyUsed) {
  dicomd::metadata::HeaderCache cache(64 << 10);
  for (int i = 0; i < 200; ++i) {
    cache.insert("s/" + std::to_string(i), FileVersion{1, 1, {}}, 0, header_with(20));
    EXPECT_NE(cache.find("s/0", FileVersion{1, 1, {}}, 0), nullptr) << i;  // kept warm, never evicted
    EXPECT_LE(cache.bytes(), 64u << 10);
  }
  EXPECT_EQ(cache.find("s/1", FileVersion{1, 1, {}}, 0), nullptr);
  EXPECT_NE(cache.find("s/199", FileVersion{1, 1, {}}, 0), nullptr);
  cache.insert("s/huge", FileVersion{1, 1, {}}, 0, header_with(200));  // over an eighth of the capacity: not kept
  EXPECT_EQ(cache.find("s/huge", FileVersion{1, 1, {}}, 0), nullptr);
}

TEST(ParsedHeader, FindsElementsByTagAndJoinsThemInFileOrder) {
  dicomd::metadata::ParsedHeader h;
  h.add(0x00020010, R"({"a":1})");
  h.add(0x00080016, R"({"b":2})");
  h.add(0x00020010, R"({"dup":3})");  // a repeated tag: the first one is found
  h.finish();
  ASSERT_NE(h.find(0x00080016), nullptr);
  EXPECT_EQ(*h.find(0x00080016), R"({"b":2})");
  EXPECT_EQ(*h.find(0x00020010), R"({"a":1})");
  EXPECT_EQ(h.find(0x00100010), nullptr);
  EXPECT_EQ(h.all_json(), R"([{"a":1},{"b":2},{"dup":3}])");
}

namespace {

// A Part 10 file (explicit VR little endian) holding `elements`, written by GDCM.
std::string file_with(const std::vector<gdcm::DataElement>& elements) {
  gdcm::Writer writer;
  gdcm::File& file = writer.GetFile();
  file.GetHeader().SetDataSetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
  for (const auto& e : elements) file.GetDataSet().Insert(e);
  gdcm::DataElement sop_class(gdcm::Tag(0x0008, 0x0016), 0, gdcm::VR::UI);
  sop_class.SetByteValue("1.2.840.10008.5.1.4.1.1.7", 26);
  file.GetDataSet().Insert(sop_class);
  gdcm::DataElement sop_instance(gdcm::Tag(0x0008, 0x0018), 0, gdcm::VR::UI);
  sop_instance.SetByteValue("1.2.3.4", 8);
  file.GetDataSet().Insert(sop_instance);
  std::ostringstream out;
  writer.SetStream(out);
  EXPECT_TRUE(writer.Write());
  return out.str();
}

gdcm::DataElement element(uint16_t group, uint16_t elem, gdcm::VR vr, std::string_view bytes) {
  gdcm::DataElement e(gdcm::Tag(group, elem), 0, vr);
  e.SetByteValue(bytes.data(), static_cast<uint32_t>(bytes.size()));
  return e;
}

// The "value" of one tag of `bytes`, as JSON text.
std::string value_of(const std::string& bytes, const std::string& tag) {
  auto header = parse_header(bytes);
  if (!header) return "(unreadable)";
  TagsResult r = describe_tags(*header, {tag});
  size_t at = r.json.find("\"value\":");
  return at == std::string::npos ? r.json : r.json.substr(at + 8, r.json.rfind('}') - at - 8);
}

}  // namespace

// A value that breaks its VR is shown as it is, never dropped to null: a user
// debugging a bad file needs to see it (pydicom's badVR.dcm has NumberOfFrames "1A").
TEST(TagJson, ValuesThatBreakTheirVrAreShownAsTheyAre) {
  double inf = std::numeric_limits<double>::infinity();
  std::string bytes = file_with({
      element(0x0028, 0x0008, gdcm::VR::IS, "1A"),      // NumberOfFrames
      element(0x0018, 0x0050, gdcm::VR::DS, "2.5mm "),  // SliceThickness
      element(0x0018, 0x0088, gdcm::VR::DS, "NaN "),    // SpacingBetweenSlices
      element(0x0020, 0x0013, gdcm::VR::IS, " 7  "),    // InstanceNumber: a number
      element(0x0018, 0x9089, gdcm::VR::FD, std::string_view(reinterpret_cast<const char*>(&inf), 8)),
      element(0x0018, 0x9087, gdcm::VR::FD, std::string_view("\x00\x00\x00\x00\x00\x00\xf8\xff", 8)),  // NaN
      element(0x0028, 0x9001, gdcm::VR::UL, std::string_view("\x01\x00\x00\x00\x02\x00", 6)),          // 1.5 values
      element(0x0020, 0x9165, gdcm::VR::AT, std::string_view("\x28\x00\x10\x00\x28\x00", 6)),          // 1.5 tags
  });
  EXPECT_EQ(value_of(bytes, "NumberOfFrames"), R"("1A")");
  EXPECT_EQ(value_of(bytes, "SliceThickness"), R"("2.5mm")");
  EXPECT_EQ(value_of(bytes, "SpacingBetweenSlices"), R"("NaN")");
  EXPECT_EQ(value_of(bytes, "InstanceNumber"), "7");
  EXPECT_EQ(value_of(bytes, "(0018,9089)"), R"("Infinity")");
  EXPECT_EQ(value_of(bytes, "(0018,9087)"), R"("NaN")");
  EXPECT_EQ(value_of(bytes, "DataPointRows"), R"("AQAAAAIA")");          // base64 of the 6 bytes
  EXPECT_EQ(value_of(bytes, "DimensionIndexPointer"), R"("KAAQACgA")");  // base64 of the 6 bytes
}

// A header parsed in a worker comes back through serialize/deserialize.
TEST(ParsedHeader, SerializeRoundTrip) {
  std::string bytes =
      file_with({element(0x0028, 0x0008, gdcm::VR::IS, "3"), element(0x0010, 0x0010, gdcm::VR::PN, "A^B")});
  auto header = parse_header(bytes);
  ASSERT_TRUE(header);
  auto back = ParsedHeader::deserialize(header->serialize());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->all_json(), header->all_json());
  ASSERT_TRUE(back->find(0x00280008));
  EXPECT_EQ(*back->find(0x00280008), *header->find(0x00280008));
  std::string cut = header->serialize();
  cut.pop_back();
  EXPECT_FALSE(ParsedHeader::deserialize(cut));
  EXPECT_FALSE(ParsedHeader::deserialize("abc"));
}

namespace {

// What parse_header_start makes of one cut of a file, against the whole
// file's parse_header: the same header, none (the whole file decides), or
// another header (a defect).
enum class StartParse : char { kSame = 'S', kNone = 'N', kDiffers = 'D' };

// One file cut at one place.
struct Cut {
  const std::string* bytes;
  size_t at;
};

// What parse_header_start makes of each cut, one char a cut, worked out in
// a child process: Debian's GDCM asserts on some bytes (the plugin runs both
// parses in workers too). A cut that kills the child is 'X', and a new
// child goes on from the next cut.
std::string start_parses(const std::vector<Cut>& cuts) {
  std::string got;
  while (got.size() < cuts.size()) {
    int fds[2];
    if (pipe(fds) != 0) return got;
    pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      const std::string* parsed = nullptr;
      std::shared_ptr<const ParsedHeader> whole;
      for (size_t i = got.size(); i < cuts.size(); ++i) {
        const std::string& bytes = *cuts[i].bytes;
        if (parsed != &bytes) whole = parse_header(bytes), parsed = &bytes;
        auto start = parse_header_start(std::string_view(bytes).substr(0, cuts[i].at), bytes.size());
        StartParse r = !start                                              ? StartParse::kNone
                       : whole && start->serialize() == whole->serialize() ? StartParse::kSame
                                                                           : StartParse::kDiffers;
        char c = static_cast<char>(r);
        if (write(fds[1], &c, 1) != 1) _exit(1);
      }
      _exit(0);
    }
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) == 1) got += c;
    close(fds[0]);
    waitpid(child, nullptr, 0);
    if (got.size() < cuts.size()) got += 'X';  // the child died on this cut
  }
  return got;
}

}  // namespace

// Every pydicom file, cut at many places (inside the meta header, inside
// the data set, around the pixel data's tag, just before the end): the
// start gives the whole file's header or nothing, never another one; and
// most files' header is found from a start that ends shortly after it.
TEST(ParsedHeader, AFileStartGivesTheWholeFilesHeaderOrNothing) {
  std::vector<std::filesystem::path> paths;
  std::vector<std::string> files;
  for (const auto& path : dicomd::test::pydicom_files()) {
    // SC_rgb_jpeg.dcm says explicit VR and is implicit: GDCM spends seconds
    // and about 1.3 GB on it, and dies on a cut after its pixel data header.
    if (path.filename() == "SC_rgb_jpeg.dcm") continue;
    std::string bytes = dicomd::test::read_file(path);
    if (bytes.size() < 256) continue;
    paths.push_back(path);
    files.push_back(std::move(bytes));
  }
  std::vector<Cut> cuts;
  std::vector<size_t> file_of;  // cut -> index in files
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string& bytes = files[f];
    std::vector<size_t> at = {64, 132, 200, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1};
    size_t tag = bytes.rfind(std::string("\xe0\x7f\x10\x00", 4));
    if (tag != std::string::npos)
      for (size_t after : {0, 4, 8, 11, 12, 16, 17, 64, 300})
        if (tag + after < bytes.size()) at.push_back(tag + after);
    for (size_t a : at) cuts.push_back({&bytes, a}), file_of.push_back(f);
  }
  std::string got = start_parses(cuts);
  ASSERT_EQ(got.size(), cuts.size());
  std::set<size_t> found_from_start;
  int children_died = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    std::string name = paths[file_of[i]].filename().string();
    EXPECT_NE(got[i], static_cast<char>(StartParse::kDiffers)) << name << " cut at " << cuts[i].at;
    if (got[i] == static_cast<char>(StartParse::kSame)) found_from_start.insert(file_of[i]);
    if (got[i] == 'X') {
      ++children_died;
      ADD_FAILURE() << "GDCM died on " << name << " cut at " << cuts[i].at;
    }
  }
  EXPECT_GE(files.size(), 80u);
  EXPECT_GE(found_from_start.size(), 50u) << "the start of a file hardly ever gave its header";
  EXPECT_EQ(children_died, 0);
}
