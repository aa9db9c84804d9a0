// The files plugin serves the original API's routes on whichever
// dicomd.storage is bound: here a backend built for ABI 1.0 (put, read,
// stat, lists and removals only, in memory), which must keep working:
// uploads are validated on a copy, downloads read the bytes, a study's
// removal is counted from a listing.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include <dicomd/cpp/config.hpp>

#include "core_server.h"
#include "test_host.h"

using namespace dicomd::test;

namespace {

class MemoryStorage10 : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "memory-storage";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "a 1.0 storage in memory";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }

  MemoryStorage10(dicomd::Host host, std::string_view) : Plugin(host) {
    vtable_.struct_size = offsetof(dicomd_storage_v1, removal_count);  // the 1.0 struct
    vtable_.self = this;
    vtable_.put = dicomd::service<&MemoryStorage10::put>;
    vtable_.read = dicomd::service<&MemoryStorage10::read>;
    vtable_.stat = dicomd::service<&MemoryStorage10::stat>;
    vtable_.list_studies = dicomd::service<&MemoryStorage10::list_studies>;
    vtable_.list_files = dicomd::service<&MemoryStorage10::list_files>;
    vtable_.remove = dicomd::service<&MemoryStorage10::remove>;
    vtable_.remove_study = dicomd::service<&MemoryStorage10::remove_study>;
    host.provide(DICOMD_STORAGE_SERVICE, 1, &vtable_);
  }

 private:
  using Key = std::pair<std::string, std::string>;
  static Key key(dicomd_str s, dicomd_str n) { return {std::string(dicomd::view(s)), std::string(dicomd::view(n))}; }
  dicomd_status put(dicomd_str s, dicomd_str n, dicomd_str bytes) {
    std::lock_guard lock(mutex_);
    return files_.emplace(key(s, n), std::string(dicomd::view(bytes))).second ? DICOMD_OK : DICOMD_E_EXISTS;
  }
  dicomd_status read(dicomd_str s, dicomd_str n, dicomd_bytes_fn consume, void* ctx) {
    std::lock_guard lock(mutex_);
    auto it = files_.find(key(s, n));
    if (it == files_.end()) return DICOMD_E_NOT_FOUND;
    consume(ctx, dicomd::str(it->second));
    return DICOMD_OK;
  }
  dicomd_status stat(dicomd_str s, dicomd_str n, dicomd_object_info* info) {
    std::lock_guard lock(mutex_);
    auto it = files_.find(key(s, n));
    if (it == files_.end()) return DICOMD_E_NOT_FOUND;
    *info = {it->second.size(), 42};
    return DICOMD_OK;
  }
  dicomd_status list_studies(dicomd_name_fn each, void* ctx) {
    std::lock_guard lock(mutex_);
    std::string last;
    for (const auto& [k, v] : files_)
      if (k.first != last) each(ctx, dicomd::str(last = k.first));
    return DICOMD_OK;
  }
  dicomd_status list_files(dicomd_str s, dicomd_name_fn each, void* ctx) {
    std::lock_guard lock(mutex_);
    bool any = false;
    for (const auto& [k, v] : files_)
      if (k.first == dicomd::view(s)) {
        each(ctx, dicomd::str(k.second));
        any = true;
      }
    return any ? DICOMD_OK : DICOMD_E_NOT_FOUND;
  }
  dicomd_status remove(dicomd_str s, dicomd_str n) {
    std::lock_guard lock(mutex_);
    return files_.erase(key(s, n)) ? DICOMD_OK : DICOMD_E_NOT_FOUND;
  }
  dicomd_status remove_study(dicomd_str s) {
    std::lock_guard lock(mutex_);
    size_t before = files_.size();
    std::erase_if(files_, [&](const auto& e) { return e.first.first == dicomd::view(s); });
    return files_.size() < before ? DICOMD_OK : DICOMD_E_NOT_FOUND;
  }

  std::mutex mutex_;
  std::map<Key, std::string> files_;
  dicomd_storage_v1 vtable_{};
};

std::string pydicom(const std::string& name) {
  return read_file(pydicom_data_dir() / "test_files" / name);
}

}  // namespace

TEST(FilesPlugin, ServesTheOriginalApiOnAStorageBuiltForAbi10) {
  TempDir dir;
  TestHost host(dir / "data");
  host.add(dicomd::testing::descriptor<MemoryStorage10>()).load("files").load("validator-gdcm");
  host.start();
  auto stored = host.upload("s", {{"files", "CT", pydicom("CT_small.dcm")}, {"files", "bad", "not DICOM"}});
  EXPECT_EQ(stored.status, 422);
  EXPECT_NE(stored.body.find(R"("stored":["CT"])"), std::string::npos) << stored.body;
  EXPECT_NE(stored.body.find(R"("reason":"invalid_type")"), std::string::npos) << stored.body;
  EXPECT_NE(host.upload("s", {{"files", "CT", pydicom("MR_small.dcm")}}).body.find("duplicate"), std::string::npos);
  EXPECT_EQ(host.get("/files").body, R"({"studies":["s"],"studiesCount":1,"success":true})");
  auto file = host.get("/files/s/CT");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, pydicom("CT_small.dcm"));
  EXPECT_EQ(host.get("/files/s/CT", {{"If-None-Match", file.header("etag")}}).status, 304);
  EXPECT_EQ(host.get("/files/s/none").status, 404);
  ASSERT_EQ(host.upload("s", {{"files", "MR", pydicom("MR_small.dcm")}}).status, 201);
  EXPECT_EQ(host.del("/files/s").body, R"({"deletedFiles":2,"study":"s","success":true})");
  EXPECT_EQ(host.get("/files/s").status, 404);
}

TEST(FilesPlugin, WithoutAStorageTheServerDoesNotStart) {
  TempDir dir;
  TestHost host(dir / "data");
  host.load("files").load("validator-gdcm");
  try {
    host.start();
    ADD_FAILURE() << "started without dicomd.storage";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("dicomd.storage"), std::string::npos) << e.what();
  }
}
