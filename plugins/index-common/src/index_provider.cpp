#include "index_provider.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include <dicomd/cpp/json.hpp>

namespace dicomd::index {
namespace {

// study and file of an event's payload ({"study":...,"file":...}).
std::optional<std::pair<std::string, std::string>> names_of(std::string_view payload) {
  rapidjson::Document d;
  d.Parse(payload.data(), payload.size());
  if (!d.IsObject() || !d.HasMember("study") || !d.HasMember("file") || !d["study"].IsString() || !d["file"].IsString())
    return std::nullopt;
  return std::pair{std::string(d["study"].GetString()), std::string(d["file"].GetString())};
}

// The tags index_v1 takes, by keyword, as describe() spells them.
std::vector<std::string_view> indexed_keywords() {
  std::vector<std::string_view> out;
  for (const auto& k : search_keys())
    if (!k.column.empty() && k.keyword != "study" && k.keyword != "file") out.push_back(k.keyword);
  return out;
}

// describe()'s array of tag objects as {"Keyword": value, ...}.
std::string attributes_of(std::string_view describe_json) {
  rapidjson::Document d;
  d.Parse(describe_json.data(), describe_json.size());
  JsonWriter w;
  w.start_object();
  if (d.IsArray()) {
    for (const auto& tag : d.GetArray()) {
      if (!tag.IsObject() || !tag.HasMember("keyword") || !tag["keyword"].IsString() || !tag.HasMember("value"))
        continue;
      const auto& value = tag["value"];
      if (value.IsNull()) continue;
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      value.Accept(writer);
      w.key(tag["keyword"].GetString()).raw({buffer.GetString(), buffer.GetSize()});
    }
  }
  w.end_object();
  return std::string(w.text());
}

}  // namespace

IndexProvider::IndexProvider(Host host, SqlDatabase& db)
    : host_(host),
      storage_(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1)),
      metadata_(host.acquire<dicomd_metadata_v1>(DICOMD_METADATA_SERVICE, 1)),
      store_(db),
      vtable_{sizeof(dicomd_index_v1),           this,
              service<&IndexProvider::upsert>,   service<&IndexProvider::remove>,
              service<&IndexProvider::search>,   service<&IndexProvider::count>,
              service<&IndexProvider::reconcile>},
      jobs_(host, db) {
  if (!storage_) throw std::runtime_error("no storage service");
  if (!metadata_) throw std::runtime_error("no metadata service (enable metadata-gdcm)");
  store_.create_schema();
  jobs_.create_schema();
}

std::string IndexProvider::version_of(std::string_view study, std::string_view file) const {
  try {
    std::string hash = storage_.content_hash(study, file);
    if (!hash.empty()) return hash;
    auto info = storage_.find(study, file);
    return info ? std::to_string(info->size) + "-" + std::to_string(info->modified_ns) : "";
  } catch (const ServiceError& e) {
    if (e.code == DICOMD_E_NOT_FOUND) return "";
    throw;
  }
}

std::optional<InstanceRecord> IndexProvider::read_record(std::string_view study, std::string_view file) const {
  InstanceRecord r{std::string(study), std::string(file), version_of(study, file), "{}"};
  if (r.content_hash.empty()) return std::nullopt;
  try {
    r.attributes_json = attributes_of(metadata_.describe(study, file, indexed_keywords()));
  } catch (const ServiceError& e) {
    if (e.code == DICOMD_E_NOT_FOUND) return std::nullopt;
    // Bytes the parser refuses (stored by other means): still findable by
    // study and file. Anything else (busy, timed out) is retried.
    if (e.code != DICOMD_E_UNSUPPORTED && e.code != DICOMD_E_INVALID) throw;
  }
  return r;
}

IndexProvider::~IndexProvider() {
  stop_catch_up();
}

// Runs an event's change. A failure marks the index behind; the first one
// goes on to the bus, which tries the event once more soon (a busy parser,
// a deadlock), after which the catch-up takes over: an upload waits for its
// events, and must not wait for every retry of a broken index.
template <class Fn>
void IndexProvider::applying(const Event& e, Fn&& fn) {
  try {
    fn();
  } catch (...) {
    if (!behind_.exchange(true)) host_.warn("an event could not be applied to the index; it will catch up");
    if (e.attempt <= 1) throw;
  }
}

void IndexProvider::attach(Plugin& plugin) {
  host_.provide(DICOMD_INDEX_SERVICE, 1, vtable());
  host_.provide(DICOMD_JOBQUEUE_SERVICE, 1, jobs_.vtable());
  plugin.subscribe("stored", [this](const Event& e) { on_stored(e); });
  plugin.subscribe("removed", [this](const Event& e) { on_removed(e); });
  // Counted at each scrape (an indexed count(*): milliseconds at 100k rows).
  plugin.collect_metrics([this, instances = host_.gauge("dicomd_index_instances", "Instances in the search index."),
                          behind = host_.gauge("dicomd_index_behind",
                                               "1 while the index is missing changes it will catch up on, else 0.")] {
    instances.set(static_cast<double>(count()));
    behind.set(behind_ ? 1 : 0);
  });
}

void IndexProvider::on_stored(const Event& e) {
  auto names = names_of(e.payload);
  if (!names) return;  // not a file event
  applying(e, [&] {
    if (auto record = read_record(names->first, names->second))
      store_.upsert(*record);
    else
      store_.remove(names->first, names->second);  // gone again already
  });
}

void IndexProvider::on_removed(const Event& e) {
  if (auto names = names_of(e.payload)) applying(e, [&] { store_.remove(names->first, names->second); });
}

void IndexProvider::start(std::chrono::seconds catch_up_interval) {
  auto r = run_reconcile(false, nullptr, nullptr);
  if (r.indexed || r.removed)
    host_.info("reconciled with the storage: " + std::to_string(r.checked) + " files, " + std::to_string(r.indexed) +
               " indexed, " + std::to_string(r.removed) + " rows removed");
  start_catch_up(catch_up_interval);
}

void IndexProvider::start_catch_up(std::chrono::seconds interval) {
  catch_up_ = std::thread([this, interval] { catch_up_loop(interval); });
}

void IndexProvider::stop_catch_up() {
  {
    std::lock_guard lock(catch_up_mutex_);
    stopping_ = true;
  }
  catch_up_wake_.notify_all();
  if (catch_up_.joinable()) catch_up_.join();
}

void IndexProvider::catch_up_loop(std::chrono::seconds interval) {
  std::unique_lock lock(catch_up_mutex_);
  while (!catch_up_wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    if (!behind_.exchange(false)) continue;
    lock.unlock();
    try {
      auto r = run_reconcile(false, nullptr, nullptr);
      host_.info("the index caught up: " + std::to_string(r.indexed) + " files indexed, " + std::to_string(r.removed) +
                 " rows removed");
    } catch (const std::exception& e) {
      behind_ = true;
      host_.warn(std::string("the index is still behind: ") + e.what());
    }
    lock.lock();
  }
}

dicomd_status IndexProvider::upsert(dicomd_str study, dicomd_str file, dicomd_str content_hash,
                                    dicomd_str attributes_json) {
  try {
    store_.upsert({std::string(view(study)), std::string(view(file)), std::string(view(content_hash)),
                   std::string(view(attributes_json))});
  } catch (const QueryError&) {
    return DICOMD_E_INVALID;
  }
  return DICOMD_OK;
}

dicomd_status IndexProvider::remove(dicomd_str study, dicomd_str file) {
  store_.remove(view(study), view(file));
  return DICOMD_OK;
}

dicomd_status IndexProvider::search(dicomd_str query_json, dicomd_sink out) {
  std::string answer;
  dicomd_status status = DICOMD_OK;
  auto span = host_.span("index.query");
  try {
    answer = store_.search(parse_search_query(view(query_json)));
  } catch (const QueryError& e) {
    answer = query_error_json(e.what());
    status = DICOMD_E_INVALID;
    span.fail(status, "");
  } catch (...) {
    span.fail(DICOMD_E_INTERNAL, "the index database failed the query");
    throw;
  }
  out.write(out.ctx, answer.data(), answer.size());
  return status;
}

uint64_t IndexProvider::count() {
  return store_.count();
}

dicomd_status IndexProvider::reconcile(int32_t rebuild, dicomd_progress_fn progress, void* ctx) {
  run_reconcile(rebuild != 0, progress, ctx);
  return DICOMD_OK;
}

// Compares what the storage holds with what the index holds: rows whose file
// is gone go; files missing from the index, or stored again with other
// content, are read (several at once: each read is a parse in a worker) and
// indexed in batches, one transaction each.
IndexProvider::ReconcileResult IndexProvider::run_reconcile(bool rebuild, dicomd_progress_fn progress, void* ctx) {
  if (rebuild) store_.clear();
  auto indexed = store_.indexed();
  std::vector<std::pair<std::string, std::string>> stored;
  for (const auto& study : storage_.list_studies())
    for (auto& file : storage_.list_files(study)) stored.emplace_back(study, std::move(file));

  ReconcileResult result;
  std::vector<std::pair<std::string, std::string>> missing;
  for (const auto& key : stored) {
    auto it = indexed.find(key);
    if (it == indexed.end() || it->second != version_of(key.first, key.second)) missing.push_back(key);
    if (it != indexed.end()) indexed.erase(it);
  }
  for (const auto& [key, hash] : indexed) {
    store_.remove(key.first, key.second);
    ++result.removed;
  }

  const uint64_t total = stored.size();
  std::atomic<uint64_t> done{total - missing.size()};
  if (progress) progress(ctx, done, total);
  std::mutex mutex;  // guards next, batch, first_error and progress calls
  size_t next = 0;
  std::vector<InstanceRecord> batch;
  std::exception_ptr first_error;
  auto flush = [&](std::vector<InstanceRecord>& records) {
    if (records.empty()) return;
    store_.upsert_batch(records);
    result.indexed += records.size();
    records.clear();
  };
  auto work = [&] {
    while (true) {
      std::pair<std::string, std::string> key;
      {
        std::lock_guard lock(mutex);
        if (next >= missing.size() || first_error) return;
        key = missing[next++];
      }
      try {
        auto record = read_record(key.first, key.second);
        std::lock_guard lock(mutex);
        if (record) batch.push_back(std::move(*record));
        if (batch.size() >= 256) flush(batch);
        uint64_t n = ++done;
        if (progress && (n % 256 == 0 || n == total)) progress(ctx, n, total);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> readers;
  unsigned n = std::clamp(std::thread::hardware_concurrency(), 2u, 8u);
  for (unsigned i = 0; i < n; ++i) readers.emplace_back(work);
  for (auto& t : readers) t.join();
  if (first_error) std::rethrow_exception(first_error);
  flush(batch);
  if (progress) progress(ctx, total, total);
  result.checked = total;
  return result;
}

}  // namespace dicomd::index
