#include "fs_blob_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "temp_dir.h"

using dicomd::storage::FsBlobStore;
using dicomd::storage::ObjectInfo;
using dicomd::storage::StoreStatus;
using dicomd::test::TempDir;

namespace {

std::string read_back(FsBlobStore& store, const std::string& study, const std::string& name) {
  std::string out;
  store.read(study, name, [&](std::string_view bytes) { out = bytes; });
  return out;
}

}  // namespace

TEST(FsBlobStore, PutReadListRemove) {
  TempDir dir;
  FsBlobStore store(dir.str());
  EXPECT_EQ(store.put("s", "b", "BBB"), StoreStatus::kOk);
  EXPECT_EQ(store.put("s", "a", ""), StoreStatus::kOk);
  EXPECT_EQ(read_back(store, "s", "b"), "BBB");
  EXPECT_EQ(read_back(store, "s", "a"), "");
  std::vector<std::string> files, studies;
  EXPECT_EQ(store.list_files("s", files), StoreStatus::kOk);
  EXPECT_EQ(files, (std::vector<std::string>{"a", "b"}));
  files.clear();
  EXPECT_EQ(store.list_studies(studies), StoreStatus::kOk);
  EXPECT_EQ(studies, std::vector<std::string>{"s"});
  ObjectInfo info, again;
  EXPECT_EQ(store.stat("s", "b", info), StoreStatus::kOk);
  EXPECT_EQ(info.size, 3u);
  EXPECT_EQ(store.put("s", "c", "BBB"), StoreStatus::kOk);  // right after: a distinct time all the same
  EXPECT_EQ(store.stat("s", "c", again), StoreStatus::kOk);
  EXPECT_NE(again.modified_ns, info.modified_ns);
  EXPECT_EQ(store.removal_count(), 0u);
  EXPECT_EQ(store.remove("s", "b"), StoreStatus::kOk);
  EXPECT_EQ(store.removal_count(), 1u);
  EXPECT_EQ(store.remove("s", "b"), StoreStatus::kNotFound);
  EXPECT_EQ(store.removal_count(), 1u);  // nothing removed
  size_t removed = 0;
  EXPECT_EQ(store.remove_study("s", removed), StoreStatus::kOk);
  EXPECT_EQ(removed, 2u);  // a and c
  EXPECT_EQ(store.removal_count(), 2u);
  EXPECT_EQ(store.list_files("s", files), StoreStatus::kNotFound);
}

// The uploader is kept with the file (an extended attribute written before
// the rename), and open() gives it back; a file stored without one has none.
TEST(FsBlobStore, ReadsARange) {
  TempDir dir;
  FsBlobStore store(dir.str());
  ASSERT_EQ(store.put("s", "f", "0123456789"), StoreStatus::kOk);
  auto range = [&](uint64_t offset, uint64_t length) {
    std::string got = "unset";
    uint64_t total = 0;
    EXPECT_EQ(store.read_range("s", "f", offset, length, total, [&](std::string_view b) { got = b; }),
              StoreStatus::kOk);
    EXPECT_EQ(total, 10u);
    return got;
  };
  EXPECT_EQ(range(0, 4), "0123");
  EXPECT_EQ(range(7, 100), "789");
  EXPECT_EQ(range(10, 5), "");
  EXPECT_EQ(range(3, 0), "");
  uint64_t total = 0;
  EXPECT_EQ(store.read_range("s", "none", 0, 1, total, [](std::string_view) {}), StoreStatus::kNotFound);
  EXPECT_EQ(store.read_range("s", "../f", 0, 1, total, [](std::string_view) {}), StoreStatus::kInvalidName);
}

TEST(FsBlobStore, KeepsWhoUploadedEachFile) {
  TempDir dir;
  FsBlobStore store(dir.str());
  EXPECT_EQ(store.put_by("s", "mine", "M", "alice"), StoreStatus::kOk);
  EXPECT_EQ(store.put("s", "anyone", "A"), StoreStatus::kOk);
  for (auto [name, uploader] : {std::pair{"mine", "alice"}, std::pair{"anyone", ""}}) {
    ObjectInfo info;
    int fd = -1;
    ASSERT_EQ(store.open("s", name, fd, info), StoreStatus::kOk);
    ::close(fd);
    EXPECT_EQ(info.uploader, uploader) << name;
  }
}

TEST(FsBlobStore, NeverReplaces) {
  TempDir dir;
  FsBlobStore store(dir.str());
  EXPECT_EQ(store.put("s", "x", "first"), StoreStatus::kOk);
  EXPECT_EQ(store.put("s", "x", "second"), StoreStatus::kExists);
  EXPECT_EQ(read_back(store, "s", "x"), "first");
  EXPECT_TRUE(std::filesystem::is_empty(dir / ".tmp"));
}

TEST(FsBlobStore, ConcurrentPutsIntoOneStudyShareFolderFsyncs) {
  TempDir dir;
  FsBlobStore store(dir.str());
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string name = "f";  // built with += : GCC 12 warns (-Wrestrict) on "f" + std::string
        name += std::to_string(t);
        name += '_';
        name += std::to_string(i);
        ok += store.put("s", name, std::string(20000, 'x')) == StoreStatus::kOk;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, kThreads * kEach);
  std::vector<std::string> files;
  EXPECT_EQ(store.list_files("s", files), StoreStatus::kOk);
  EXPECT_EQ(files.size(), static_cast<size_t>(kThreads * kEach));
  // Every put waited for a folder fsync begun after its rename; several
  // share one, and never more fsyncs than puts.
  EXPECT_GE(store.folder_fsyncs(), 1u);
  EXPECT_LE(store.folder_fsyncs(), static_cast<uint64_t>(kThreads * kEach));
}

TEST(FsBlobStore, ConcurrentPutsOfOneNameHaveOneWinner) {
  TempDir dir;
  FsBlobStore store(dir.str());
  for (int round = 0; round < 100; ++round) {
    std::string study = "r";
    study += std::to_string(round);
    std::atomic<int> ok{0};
    std::thread a([&] { ok += store.put(study, "n", std::string(100000, 'a')) == StoreStatus::kOk; });
    std::thread b([&] { ok += store.put(study, "n", std::string(100000, 'b')) == StoreStatus::kOk; });
    a.join();
    b.join();
    ASSERT_EQ(ok.load(), 1);
    std::string got = read_back(store, study, "n");
    ASSERT_TRUE(got == std::string(100000, 'a') || got == std::string(100000, 'b'));
  }
}

TEST(FsBlobStore, RejectsBadNamesAndNeverFollowsSymlinks) {
  TempDir dir;
  TempDir outside;
  FsBlobStore store(dir.str());
  EXPECT_EQ(store.put("..", "x", "1"), StoreStatus::kInvalidName);
  EXPECT_EQ(store.put("s", "../x", "1"), StoreStatus::kInvalidName);
  std::filesystem::create_directory_symlink(outside.path(), dir / "link");
  EXPECT_EQ(store.put("link", "x", "1"), StoreStatus::kIoError);
  EXPECT_FALSE(std::filesystem::exists(outside / "x"));
  std::ofstream(outside / "secret") << "s";
  EXPECT_EQ(store.read("link", "secret", [](std::string_view) {}), StoreStatus::kNotFound);
  std::vector<std::string> studies;
  store.list_studies(studies);
  EXPECT_TRUE(studies.empty());
}

TEST(FsBlobStore, StartCleansTheTempFolder) {
  TempDir dir;
  { FsBlobStore store(dir.str()); }
  std::ofstream(dir / ".tmp" / "up-crashed") << "partial";
  FsBlobStore store(dir.str());
  EXPECT_TRUE(std::filesystem::is_empty(dir / ".tmp"));
}

// put_checked runs the check on the written temporary file, before it is
// made durable and visible: a refusal or a throwing check leaves nothing,
// not even the temporary file; a name taken is answered before any write.
TEST(FsBlobStore, CheckedPutsStoreOnlyWhatTheCheckAccepts) {
  TempDir dir;
  FsBlobStore store(dir.str());
  std::string seen, refusal;
  auto read_through_fd = [&](int fd, uint64_t size) -> std::optional<std::string> {
    seen.assign(size, '\0');
    EXPECT_EQ(::pread(fd, seen.data(), size, 0), static_cast<ssize_t>(size));
    return std::nullopt;
  };
  EXPECT_EQ(store.put_checked("s", "good", "GOOD BYTES", "", read_through_fd, refusal), StoreStatus::kOk);
  EXPECT_EQ(seen, "GOOD BYTES");
  EXPECT_EQ(read_back(store, "s", "good"), "GOOD BYTES");

  auto refuse = [](int, uint64_t) -> std::optional<std::string> { return "not DICOM"; };
  EXPECT_EQ(store.put_checked("s", "bad", "BAD", "", refuse, refusal), StoreStatus::kRefused);
  EXPECT_EQ(refusal, "not DICOM");
  auto fail = [](int, uint64_t) -> std::optional<std::string> { throw std::runtime_error("validators busy"); };
  EXPECT_THROW(store.put_checked("s", "busy", "B", "", fail, refusal), std::runtime_error);
  ObjectInfo info;
  EXPECT_EQ(store.stat("s", "bad", info), StoreStatus::kNotFound);
  EXPECT_EQ(store.stat("s", "busy", info), StoreStatus::kNotFound);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() / ".tmp"));

  bool checked = false;
  auto note = [&](int, uint64_t) -> std::optional<std::string> {
    checked = true;
    return std::nullopt;
  };
  EXPECT_EQ(store.put_checked("s", "good", "OTHER", "", note, refusal), StoreStatus::kExists);
  EXPECT_FALSE(checked);
  EXPECT_EQ(read_back(store, "s", "good"), "GOOD BYTES");
}
