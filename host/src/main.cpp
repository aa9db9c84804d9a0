// dicomd: a plugin-based DICOM server. See README.md.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "app.h"
#include "cli.h"
#include "isolation/worker_main.h"
#include "log.h"
#include "jwt_keys.h"
#include "jwt_mint.h"
#include "import.h"
#include "reindex.h"
#include "version.h"

namespace {

std::string self_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : path.string();
}

bool set_log_level(const std::string& name) {
  using dicomd::log::Level;
  if (name == "error")
    dicomd::log::set_level(Level::kError);
  else if (name == "warn")
    dicomd::log::set_level(Level::kWarn);
  else if (name == "info")
    dicomd::log::set_level(Level::kInfo);
  else if (name == "debug")
    dicomd::log::set_level(Level::kDebug);
  else
    return false;
  return true;
}

// Blocks SIGINT/SIGTERM (stop) and SIGHUP (reopen the log file) in every
// thread (threads inherit the mask) so that main can wait for them with
// sigwait.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);  // a file-size limit makes write() fail (EFBIG), not kill us
  return set;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Root on an address others can reach turns any bug into a remote root
// compromise: refuse unless the operator says so.
void check_root(const dicomd::Config& config) {
  if (::geteuid() == 0 && !is_loopback(config.host) && !config.allow_remote_root)
    throw dicomd::ConfigError("refusing to run as root on " + config.host +
                              ", which is not a loopback address: run as another user, or pass --allow-remote-root");
}

int serve(const dicomd::Config& config) {
  check_root(config);
  sigset_t stop_signals = block_stop_signals();
  dicomd::App app(config, self_executable());
  app.start();
  // Info lines (the access log) are written in batches from here on.
  dicomd::log::start_buffering();
  dicomd::log::info("dicomd", "listening on http://" + config.host + ":" + std::to_string(app.port()));
  dicomd::log::debug("dicomd", "data folder " + config.data_dir);  // a path of the server: not at info
  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP)
    if (dicomd::log::reopen()) dicomd::log::info("dicomd", "SIGHUP: log file reopened");
  dicomd::log::info("dicomd", std::string("received ") + strsignal(sig));
  app.shutdown();
  dicomd::log::info("dicomd", "stopped");
  dicomd::log::stop_buffering();
  return 0;
}

// Keeps freed memory for reuse instead of giving it back at once. Large
// buffers (a 10 MB upload, a decoded radiograph) are otherwise mapped fresh
// for every request, and a page fault costs microseconds on a virtual
// machine: measured here, a radiograph decode took 92 ms with fresh pages
// and 2 ms with reused ones. Memory stays bounded by the peak in use, and
// goes back to the system after a quiet second (idle_trim.h).
//
// That memory is kept per malloc arena, and glibc makes up to 8 arenas per
// core, one per thread that allocates at once: under 8 hostile clients the
// server's RSS peaked at 263 MiB with the default and 114 MiB with one arena
// per core (tests/hardening/memory_bound_test.cpp). Handlers are few and
// short; one arena per core costs them little contention.
void tune_allocator() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: smaller blocks come from the heap
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);  // free heap kept before trimming
  ::mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
}

}  // namespace

// dicomd token: the key file is checked as auth-jwt checks it (readable by
// its owner only, 32 bytes or more); the token goes to stdout, alone.
int print_token(const dicomd::CliOptions& cli) {
  if (!cli.key_file || !cli.role || !cli.subject) throw dicomd::ConfigError("token needs --key-file, --role and --sub");
  std::string secret;
  try {
    secret = dicomd::auth::read_secret_file(*cli.key_file);
    dicomd::auth::KeySet::from_secret(secret);  // the length and PEM checks auth-jwt makes
  } catch (const dicomd::auth::KeyError& e) {
    throw dicomd::ConfigError("--key-file " + *cli.key_file + ": " + e.what());
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  try {
    std::printf("%s\n", dicomd::auth::mint_hs256(secret, *cli.subject, *cli.role, now.count(), cli.ttl_s).c_str());
  } catch (const std::invalid_argument& e) {
    throw dicomd::ConfigError(e.what());
  }
  return 0;
}

int main(int argc, char** argv) {
  tune_allocator();
  if (argc >= 2 && std::strcmp(argv[1], "--worker") == 0) return dicomd::run_worker(argc, argv);
  try {
    dicomd::CliOptions cli = dicomd::parse_cli(argc, argv);
    if (cli.help) {
      std::fputs(dicomd::usage().c_str(), stdout);
      return 0;
    }
    if (cli.version) {
      std::printf("dicomd %s (plugin ABI %d.%d)\n", DICOMD_VERSION, DICOMD_ABI_MAJOR, DICOMD_ABI_MINOR);
      return 0;
    }
    if (cli.command == "token") return print_token(cli);
    dicomd::Config config = dicomd::effective_config(cli);
    if (!set_log_level(config.log_level)) throw dicomd::ConfigError("log_level must be error, warn, info or debug");
    if (!dicomd::log::set_format(config.log_format)) throw dicomd::ConfigError("log_format must be text or json");
    if (cli.command == "check-config") {
      dicomd::log::set_level(dicomd::log::Level::kWarn);  // the report is the output
      return dicomd::App(config, self_executable()).check(stdout) ? 0 : 1;
    }
    if (!config.log_file.empty()) dicomd::log::open_file(config.log_file);
    if (cli.command == "reindex") {
      block_stop_signals();
      return dicomd::reindex(config, self_executable());
    }
    if (cli.command == "import") {
      if (!cli.import_from) throw dicomd::ConfigError("import needs --from DIR (a storage-fs folder)");
      block_stop_signals();
      return dicomd::import_folder(config, self_executable(), *cli.import_from);
    }
    return serve(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dicomd: error: %s\n", e.what());
    return 1;
  }
}
