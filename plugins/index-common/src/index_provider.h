// dicomd.index v1 on an IndexStore: the service vtable, the event handlers
// that keep the index in line with the storage as files come and go, and
// the reconcile that repairs whatever events were lost (a kill -9, a full
// disk). index-sqlite and index-postgres differ only in the SqlDatabase
// they give it.
#pragma once

#include <dicomd/services/index_v1.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <dicomd/cpp/host.hpp>
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/cpp/services.hpp>

#include "index_store.h"
#include "job_queue.h"

namespace dicomd::index {

// What an index plugin declares: it provides dicomd.index v1 and, in the
// same database, dicomd.jobqueue v1; it reads files through the storage and
// their tags through the metadata service.
inline constexpr std::array kIndexProvides{dicomd_service_ref{DICOMD_INDEX_SERVICE, 1, 0}, kJobQueueRef};
inline constexpr std::array kIndexRequires{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0},
                                           dicomd_service_ref{DICOMD_METADATA_SERVICE, 1, 0}};

class IndexProvider {
 public:
  IndexProvider(Host host, SqlDatabase& db);
  ~IndexProvider();

  Host& host() { return host_; }
  const dicomd_index_v1* vtable() const { return &vtable_; }
  IndexStore& store() { return store_; }

  // From the plugin's constructor: provides dicomd.index v1 and
  // dicomd.jobqueue v1, and subscribes
  // to the storage's "stored" and "removed" events.
  void attach(Plugin& plugin);

  // Needs the storage and metadata services (acquired in the constructor).
  void on_stored(const Event& e);
  void on_removed(const Event& e);

  // dicomd.index v1 (see index_v1.h).
  dicomd_status upsert(dicomd_str study, dicomd_str file, dicomd_str content_hash, dicomd_str attributes_json);
  dicomd_status remove(dicomd_str study, dicomd_str file);
  dicomd_status search(dicomd_str query_json, dicomd_sink out);
  uint64_t count();
  dicomd_status reconcile(int32_t rebuild, dicomd_progress_fn progress, void* ctx);

  struct ReconcileResult {
    uint64_t checked = 0, indexed = 0, removed = 0;
  };
  ReconcileResult run_reconcile(bool rebuild, dicomd_progress_fn progress, void* ctx);

  // The plugin's start: reconciles (files stored while no index ran, or
  // lost by a kill -9 between store and index, become searchable; rows of
  // gone files go), then starts the catch-up below.
  void start(std::chrono::seconds catch_up_interval);

  // While an event could not be applied (a full disk, the database
  // unreachable: the bus gave up on it, or is still retrying), reconciles
  // every `interval`, so the index catches up without a restart.
  void start_catch_up(std::chrono::seconds interval);
  void stop_catch_up();

 private:
  // The version the storage keeps of a file: its content hash, else size and
  // time. Empty when the file is gone.
  std::string version_of(std::string_view study, std::string_view file) const;
  // study/file's search keys through dicomd.metadata, as upsert takes them;
  // nullopt when the file is gone.
  std::optional<InstanceRecord> read_record(std::string_view study, std::string_view file) const;

  template <class Fn>
  void applying(const Event& e, Fn&& fn);
  void catch_up_loop(std::chrono::seconds interval);

  Host host_;
  std::atomic<bool> behind_{false};
  std::mutex catch_up_mutex_;
  std::condition_variable catch_up_wake_;
  bool stopping_ = false;  // guarded by catch_up_mutex_
  std::thread catch_up_;
  Storage storage_;
  Metadata metadata_;
  IndexStore store_;
  dicomd_index_v1 vtable_;
  JobQueue jobs_;  // the queue lives in the index's database
};

}  // namespace dicomd::index
