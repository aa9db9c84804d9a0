// What this machine's disk allows for storing uploads, without HTTP or any
// DICOM work: THREADS threads take the files of FILE_LIST (read into memory
// first) and store each as dicomd does — write it to a temporary name in
// the target folder, fsync it, rename it into place, and fsync the folder
// (one folder fsync for the renames that gathered while another ran, as
// storage-fs groups them). An upload benchmark is then a share of this.
//   fs_ceiling DIR THREADS FILE_LIST
// Prints one JSON line: files, seconds, files_per_s, mb_per_s.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Folder fsyncs shared by the renames that wait for one (group commit).
class FolderSync {
 public:
  explicit FolderSync(int dir_fd) : dir_fd_(dir_fd) {}
  void after_rename() {
    std::unique_lock lock(mutex_);
    const uint64_t mine = ++requested_;
    while (synced_ < mine) {
      if (syncing_) {
        done_.wait(lock);
        continue;
      }
      syncing_ = true;
      const uint64_t covers = requested_;
      lock.unlock();
      fsync(dir_fd_);
      lock.lock();
      syncing_ = false;
      synced_ = covers;
      done_.notify_all();
    }
  }

 private:
  int dir_fd_;
  std::mutex mutex_;
  std::condition_variable done_;
  uint64_t requested_ = 0, synced_ = 0;
  bool syncing_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fs_ceiling DIR THREADS FILE_LIST\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int threads = std::stoi(argv[2]);
  std::vector<std::string> files;
  std::ifstream list(argv[3]);
  for (std::string line; std::getline(list, line);)
    if (!line.empty()) files.push_back(read_all(line));
  std::filesystem::create_directories(dir);
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd < 0) return 1;
  FolderSync folder(dir_fd);

  std::atomic<size_t> next{0}, bytes{0};
  std::atomic<bool> failed{false};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (size_t i; (i = next++) < files.size();) {
        std::string tmp = ".tmp-" + std::to_string(t), name = std::to_string(i) + ".dcm";
        int fd = openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || !write_all(fd, files[i]) || fsync(fd) != 0 || close(fd) != 0 ||
            renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
          failed = true;
          return;
        }
        folder.after_rename();
        bytes += files[i].size();
      }
    });
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(dir_fd);
  if (failed) return 1;
  std::printf("{\"files\":%zu,\"seconds\":%.3f,\"files_per_s\":%.1f,\"mb_per_s\":%.1f}\n", files.size(), seconds,
              static_cast<double>(files.size()) / seconds, static_cast<double>(bytes) / 1e6 / seconds);
  return 0;
}
