#include "import.h"

#include <sys/xattr.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <dicomd/services/storage_v1.h>

#include "app.h"

namespace dicomd {
namespace {

namespace fs = std::filesystem;

struct Item {
  std::string study, file;
  fs::path path;
};

// FROM/<study>/<file>, sorted; storage-fs's own folders (.tmp) left out.
std::vector<Item> files_of(const fs::path& from) {
  if (!fs::is_directory(from)) throw std::runtime_error("import: " + from.string() + " is not a folder");
  std::vector<Item> items;
  for (const auto& study : fs::directory_iterator(from)) {
    std::string name = study.path().filename().string();
    if (name.starts_with('.') || !study.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(study.path()))
      if (file.is_regular_file()) items.push_back({name, file.path().filename().string(), file.path()});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.path < b.path; });
  return items;
}

std::string uploader_of(const fs::path& path) {
  char buf[512];
  ssize_t n = ::getxattr(path.c_str(), "user.dicomd.uploader", buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool read_whole(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), {});
  return !in.bad();
}

struct Counts {
  std::atomic<uint64_t> stored{0}, present{0}, failed{0};
};

// One file into the storage: stored, already there, or a failure printed.
void import_one(const dicomd_storage_v1& storage, const Item& item, Counts& counts, std::mutex& print) {
  std::string bytes;
  dicomd_status s = DICOMD_E_IO;
  if (read_whole(item.path, bytes)) {
    std::string uploader = uploader_of(item.path);
    auto str = [](const std::string& v) { return dicomd_str{v.data(), v.size()}; };
    if (DICOMD_HAS_FIELD(&storage, dicomd_storage_v1, put_checked) && storage.put_checked) {
      dicomd_sink none{nullptr, [](void*, const void*, size_t) {}};
      s = storage.put_checked(storage.self, str(item.study), str(item.file), str(bytes), str(uploader), nullptr,
                              nullptr, none);
    } else {
      s = storage.put(storage.self, str(item.study), str(item.file), str(bytes));
    }
  }
  if (s == DICOMD_OK) return void(++counts.stored);
  if (s == DICOMD_E_EXISTS) return void(++counts.present);
  ++counts.failed;
  std::lock_guard lock(print);
  std::fprintf(stderr, "import: %s/%s not stored (status %d)\n", item.study.c_str(), item.file.c_str(), s);
}

}  // namespace

int import_folder(const Config& config, const std::string& self_exe, const std::string& from) {
  auto start = std::chrono::steady_clock::now();
  std::vector<Item> items = files_of(from);
  App app(config, self_exe);
  app.start_plugins();
  const auto* storage = static_cast<const dicomd_storage_v1*>(app.find_service(DICOMD_STORAGE_SERVICE, 1));
  if (!storage) throw std::runtime_error("no plugin provides dicomd.storage (enable storage-s3 or storage-fs)");
  Counts counts;
  std::mutex print;
  std::atomic<size_t> next{0};
  // A few at once: an object store's latency, not the disk, bounds one.
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      for (size_t i = next++; i < items.size(); i = next++) import_one(*storage, items[i], counts, print);
    });
  for (auto& t : workers) t.join();
  bool indexed = app.flush_events(std::chrono::minutes(10));  // the index has every stored file
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "import: %llu files stored, %llu already there, %llu failed, of %zu, in %.1f s\n",
               static_cast<unsigned long long>(counts.stored.load()),
               static_cast<unsigned long long>(counts.present.load()),
               static_cast<unsigned long long>(counts.failed.load()), items.size(), seconds);
  if (!indexed) std::fprintf(stderr, "import: the index has not caught up after 10 min; run dicomd reindex\n");
  app.shutdown();
  return counts.failed == 0 && indexed ? 0 : 1;
}

}  // namespace dicomd
