// dicomd plugin SDK, C++ layer — services: the one mapping between service
// statuses and HTTP statuses, a barrier for providers' vtables, and typed
// consumers of the core services. Standard library only.
//
// Providing a service: point each vtable entry at dicomd::service<&C::method>,
// where C has host() and method returns dicomd_status; an exception thrown by
// the method becomes a status (ServiceError: its own; HttpError: the status of
// its HTTP code; anything else: logged, DICOMD_E_INTERNAL).
//
// Consuming one: wrap the acquired vtable (dicomd::Storage storage(vtable)).
// A failing call throws ServiceError, whose HTTP status is
// http_status_of(code): a route that lets it propagate answers correctly.
#pragma once

#include <dicomd/services/index_v1.h>
#include <dicomd/services/jobqueue_v1.h>
#include <dicomd/services/metadata_v1.h>
#include <dicomd/services/render_v1.h>
#include <dicomd/services/storage_v1.h>
#include <dicomd/services/validator_v1.h>

#include <unistd.h>

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "http.hpp"

namespace dicomd {

// The HTTP status a route answers when a service returns `status`.
constexpr int http_status_of(dicomd_status status) {
  switch (status) {
    case DICOMD_OK:
      return 200;
    case DICOMD_E_INVALID:
      return 400;
    case DICOMD_E_NOT_FOUND:
      return 404;
    case DICOMD_E_EXISTS:
      return 409;
    case DICOMD_E_TOO_LARGE:
      return 413;
    case DICOMD_E_UNSUPPORTED:
      return 422;
    case DICOMD_E_UNAVAILABLE:
    case DICOMD_E_TIMEOUT:
      return 503;
    default:  // INTERNAL, IO, WORKER_DIED, anything unknown
      return 500;
  }
}

// The service status a provider returns for an HttpError it caught.
constexpr dicomd_status status_of_http(int http_status) {
  switch (http_status) {
    case 400:
      return DICOMD_E_INVALID;
    case 404:
      return DICOMD_E_NOT_FOUND;
    case 409:
      return DICOMD_E_EXISTS;
    case 413:
      return DICOMD_E_TOO_LARGE;
    case 422:
      return DICOMD_E_UNSUPPORTED;
    case 503:
      return DICOMD_E_UNAVAILABLE;
    default:
      return DICOMD_E_INTERNAL;
  }
}

// A service call that failed: its status, and a message for the client
// (shown for 4xx; a 5xx is logged and answered without details).
struct ServiceError : HttpError {
  dicomd_status code;
  ServiceError(dicomd_status status, const std::string& message)
      : HttpError(http_status_of(status), message), code(status) {}
};

namespace detail {

template <auto Method>
struct service_method;

template <class C, class R, class... A, R (C::*Method)(A...)>
struct service_method<Method> {
  static R call(void* self, A... args) noexcept {
    auto* object = static_cast<C*>(self);
    if constexpr (std::is_same_v<R, dicomd_status>) {
      try {
        return (object->*Method)(args...);
      } catch (const ServiceError& e) {
        return e.code;
      } catch (const HttpError& e) {
        return status_of_http(e.status);
      } catch (const std::exception& e) {
        object->host().error(std::string("service call failed: ") + e.what());
      } catch (...) {
        object->host().error("service call failed with a non-standard exception");
      }
      return DICOMD_E_INTERNAL;
    } else {  // a counter, a flag or nothing: on an exception, logged, the value's zero
      try {
        return (object->*Method)(args...);
      } catch (const std::exception& e) {
        object->host().error(std::string("service call failed: ") + e.what());
      } catch (...) {
        object->host().error("service call failed with a non-standard exception");
      }
      if constexpr (!std::is_void_v<R>) return R{};
    }
  }
};

// Calls fn(view) through a C callback; an exception thrown by fn is carried
// past the provider's C frames and rethrown here.
template <class Fn>
struct BytesCallback {
  Fn& fn;
  std::exception_ptr error;
  static void call(void* ctx, dicomd_str bytes) {
    auto* self = static_cast<BytesCallback*>(ctx);
    try {
      self->fn(view(bytes));
    } catch (...) {
      self->error = std::current_exception();
    }
  }
  void rethrow() const {
    if (error) std::rethrow_exception(error);
  }
};

inline void collect_name(void* ctx, dicomd_str name) {
  static_cast<std::vector<std::string>*>(ctx)->emplace_back(view(name));
}

}  // namespace detail

// A vtable entry for method `Method` of the object stored in the vtable's
// self: dicomd::service<&StorageFs::put>.
template <auto Method>
inline constexpr auto service = &detail::service_method<Method>::call;

// Throws ServiceError(status, message) unless status is DICOMD_OK.
inline void check(dicomd_status status, std::string_view message) {
  if (status != DICOMD_OK) throw ServiceError(status, std::string(message));
}

// What every typed consumer holds: the acquired vtable, null when an
// optional service is absent (test with `if (consumer)`).
template <class VTable>
class Consumer {
 public:
  Consumer() = default;
  explicit Consumer(const VTable* vtable) : v_(vtable) {}
  explicit operator bool() const { return v_ != nullptr; }
  const VTable* raw() const { return v_; }

 protected:
  const VTable* v_ = nullptr;
};

// dicomd.storage v1, as a consumer uses it. Names are the API's (checked by
// the caller); "file not found" / "study not found" are the 404 messages.
// An open file descriptor, closed by its owner.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() { reset(); }
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

class Storage : public Consumer<dicomd_storage_v1> {
 public:
  using Consumer::Consumer;
  struct Info {
    uint64_t size = 0;
    int64_t modified_ns = 0;
  };

  // The stored file's size and time; nullopt when it does not exist.
  std::optional<Info> find(std::string_view study, std::string_view file) const {
    dicomd_object_info info{};
    dicomd_status s = v_->stat(v_->self, str(study), str(file), &info);
    if (s == DICOMD_E_NOT_FOUND) return std::nullopt;
    check(s, "storage stat failed");
    return Info{info.size, info.modified_ns};
  }
  Info stat(std::string_view study, std::string_view file) const {
    auto info = find(study, file);
    if (!info) throw ServiceError(DICOMD_E_NOT_FOUND, "file not found");
    return *info;
  }
  // The stored file opened read-only, with its size (ABI 1.4), for
  // Host::isolate_file; nullopt when the backend gives no descriptors (use
  // read). ServiceError 404 when the file is absent.
  struct OpenedFile {
    OwnedFd fd;
    uint64_t size = 0;
  };
  std::optional<OpenedFile> open(std::string_view study, std::string_view file) const {
    if (!DICOMD_HAS_FIELD(v_, dicomd_storage_v1, open) || !v_->open) return std::nullopt;
    int32_t fd = -1;
    uint64_t size = 0;
    dicomd_status s = v_->open(v_->self, str(study), str(file), &fd, &size);
    check(s, s == DICOMD_E_NOT_FOUND ? "file not found" : "storage open failed");
    return OpenedFile{OwnedFd(fd), size};
  }
  // Calls consume(std::string_view bytes) once with the whole file.
  template <class Fn>
  void read(std::string_view study, std::string_view file, Fn&& consume) const {
    detail::BytesCallback<Fn> callback{consume, nullptr};
    dicomd_status s = v_->read(v_->self, str(study), str(file), &detail::BytesCallback<Fn>::call, &callback);
    callback.rethrow();
    check(s, s == DICOMD_E_NOT_FOUND ? "file not found" : "storage read failed");
  }
  // Whether read_range is there (a storage built for ABI 1.7 or later).
  bool can_read_range() const { return DICOMD_HAS_FIELD(v_, dicomd_storage_v1, read_range) && v_->read_range; }
  // Calls consume(std::string_view bytes) once with up to `length` bytes
  // from `offset`, and returns the file's whole size (ABI 1.7; check
  // can_read_range). ServiceError 404 when the file is absent.
  template <class Fn>
  uint64_t read_range(std::string_view study, std::string_view file, uint64_t offset, uint64_t length,
                      Fn&& consume) const {
    detail::BytesCallback<Fn> callback{consume, nullptr};
    uint64_t total = 0;
    dicomd_status s = v_->read_range(v_->self, str(study), str(file), offset, length, &total,
                                     &detail::BytesCallback<Fn>::call, &callback);
    callback.rethrow();
    check(s, s == DICOMD_E_NOT_FOUND ? "file not found" : "storage read failed");
    return total;
  }
  // DICOMD_OK, or the status (EXISTS, IO, ...) for the caller to report.
  dicomd_status put(std::string_view study, std::string_view file, std::string_view bytes) const {
    return v_->put(v_->self, str(study), str(file), str(bytes));
  }
  std::vector<std::string> list_studies() const {
    std::vector<std::string> names;
    check(v_->list_studies(v_->self, &detail::collect_name, &names), "cannot list studies");
    return names;
  }
  std::vector<std::string> list_files(std::string_view study) const {
    std::vector<std::string> names;
    dicomd_status s = v_->list_files(v_->self, str(study), &detail::collect_name, &names);
    check(s, s == DICOMD_E_NOT_FOUND ? "study not found" : "cannot list files");
    return names;
  }
  void remove(std::string_view study, std::string_view file) const {
    dicomd_status s = v_->remove(v_->self, str(study), str(file));
    check(s, s == DICOMD_E_NOT_FOUND ? "file not found" : "cannot delete file");
  }
  // The content hash the store keeps for a file; empty when it keeps none
  // (or is older than ABI 1.2). ServiceError 404 when the file is absent.
  std::string content_hash(std::string_view study, std::string_view file) const {
    std::string hash;
    if (!DICOMD_HAS_FIELD(v_, dicomd_storage_v1, content_hash) || !v_->content_hash) return hash;
    dicomd_status s = v_->content_hash(v_->self, str(study), str(file), string_sink(hash));
    check(s, s == DICOMD_E_NOT_FOUND ? "file not found" : "storage content hash failed");
    return hash;
  }
  // How many removals the store has made; nullopt from a 1.0 provider.
  std::optional<uint64_t> removal_count() const {
    if (!DICOMD_HAS_FIELD(v_, dicomd_storage_v1, removal_count) || !v_->removal_count) return std::nullopt;
    return v_->removal_count(v_->self);
  }
};

// dicomd.index v1.
class Index : public Consumer<dicomd_index_v1> {
 public:
  using Consumer::Consumer;

  // The answer JSON ({"level","total","offset","limit","results"}), or
  // ServiceError(DICOMD_E_INVALID) whose message is the refusal's JSON
  // ({"error","supported"}).
  std::string search(std::string_view query_json) const {
    std::string out;
    dicomd_status s = v_->search(v_->self, str(query_json), string_sink(out));
    check(s, s == DICOMD_E_INVALID ? out : "the index failed");
    return out;
  }
  uint64_t count() const { return v_->count(v_->self); }
};

// dicomd.validator v1.
class Validator : public Consumer<dicomd_validator_v1> {
 public:
  using Consumer::Consumer;
  struct Verdict {
    bool valid = false;
    std::string reason;  // why not, when !valid
  };

  Verdict validate(std::string_view bytes) const {
    Verdict verdict;
    dicomd_status s = v_->validate(v_->self, str(bytes), string_sink(verdict.reason));
    if (s == DICOMD_E_INVALID) return verdict;
    check(s, "the validator failed");
    return {true, ""};
  }

  // Whether validate_file is there (a validator built for ABI 1.5 or later).
  bool can_validate_file() const {
    return DICOMD_HAS_FIELD(v_, dicomd_validator_v1, validate_file) && v_->validate_file;
  }
  // The verdict on the first `length` bytes of the open file `fd`.
  Verdict validate_file(int fd, uint64_t length) const {
    Verdict verdict;
    dicomd_status s = v_->validate_file(v_->self, fd, length, string_sink(verdict.reason));
    if (s == DICOMD_E_INVALID) return verdict;
    check(s, "the validator failed");
    return {true, ""};
  }
};

// dicomd.metadata v1.
class Metadata : public Consumer<dicomd_metadata_v1> {
 public:
  using Consumer::Consumer;

  // The JSON array of tag objects; ServiceError 400 with the JSON array of
  // unknown spellings as its message when a tag is unknown.
  std::string describe(std::string_view study, std::string_view file,
                       const std::vector<std::string_view>& tags = {}) const {
    std::vector<dicomd_str> specs;
    for (auto t : tags) specs.push_back(str(t));
    std::string json;
    dicomd_status s = v_->describe(v_->self, str(study), str(file), specs.data(), specs.size(), string_sink(json));
    check(s, s == DICOMD_E_INVALID ? json : s == DICOMD_E_NOT_FOUND ? "file not found" : "cannot read the tags");
    return json;
  }
};

// dicomd.render v1.
class Render : public Consumer<dicomd_render_v1> {
 public:
  using Consumer::Consumer;

  std::string png(std::string_view study, std::string_view file, const dicomd_render_options& options) const {
    std::string out;
    dicomd_status s = v_->render_png(v_->self, str(study), str(file), &options, string_sink(out));
    check(s, s == DICOMD_E_NOT_FOUND ? "file not found" : "the image cannot be rendered");
    return out;
  }

  // Whether etag_png is there (a renderer built for ABI 1.8 or later).
  bool can_tag() const { return DICOMD_HAS_FIELD(v_, dicomd_render_v1, etag_png) && v_->etag_png; }
  // The ETag png() answers with for these options, without rendering.
  std::string etag(std::string_view study, std::string_view file, const dicomd_render_options& options) const {
    std::string out;
    dicomd_status s = v_->etag_png(v_->self, str(study), str(file), &options, string_sink(out));
    check(s, s == DICOMD_E_NOT_FOUND ? "file not found" : "the image cannot be tagged");
    return out;
  }
};

// dicomd.jobqueue v1 (ABI 1.8): JSON in and out, as jobqueue_v1.h says.
class JobQueue : public Consumer<dicomd_jobqueue_v1> {
 public:
  using Consumer::Consumer;

  // {"id":N,"created":bool}
  std::string submit(std::string_view job_json) const {
    std::string out;
    dicomd_status s = v_->submit(v_->self, str(job_json), string_sink(out));
    check(s, s == DICOMD_E_INVALID ? "a malformed job" : "the job queue failed");
    return out;
  }
  // The claimed job's JSON, or nullopt when none is due.
  std::optional<std::string> claim(std::string_view owner, uint32_t lease_ms) const {
    std::string out;
    dicomd_status s = v_->claim(v_->self, str(owner), lease_ms, string_sink(out));
    if (s == DICOMD_E_NOT_FOUND) return std::nullopt;
    check(s, "the job queue failed");
    return out;
  }
  // false: the job is no longer this token's.
  bool renew(uint64_t id, uint64_t token, uint32_t progress_permille, uint32_t lease_ms) const {
    return still_ours(v_->renew(v_->self, id, token, progress_permille, lease_ms));
  }
  bool complete(uint64_t id, uint64_t token, std::string_view content_type, std::string_view result) const {
    return still_ours(v_->complete(v_->self, id, token, str(content_type), str(result)));
  }
  bool fail(uint64_t id, uint64_t token, std::string_view reason, uint32_t retry_after_ms, bool release = false) const {
    return still_ours(v_->fail(v_->self, id, token, str(reason), retry_after_ms, release ? 1 : 0));
  }
  // The job's JSON, or nullopt when there is no such job.
  std::optional<std::string> get(uint64_t id) const {
    std::string out;
    dicomd_status s = v_->get(v_->self, id, string_sink(out));
    if (s == DICOMD_E_NOT_FOUND) return std::nullopt;
    check(s, "the job queue failed");
    return out;
  }
  struct Result {
    std::string content_type, body;
  };
  // A done job's result by id, or by key with id 0; nullopt when none.
  std::optional<Result> result(uint64_t id, std::string_view key = {}) const {
    Result r;
    dicomd_status s = v_->result(v_->self, id, str(key), string_sink(r.content_type), string_sink(r.body));
    if (s == DICOMD_E_NOT_FOUND) return std::nullopt;
    check(s, "the job queue failed");
    return r;
  }
  // false: no such job.
  bool cancel(uint64_t id) const { return still_ours(v_->cancel(v_->self, id)); }
  void cancel_source(std::string_view study, std::string_view file, std::string_view drop_kind,
                     std::string_view reason) const {
    std::string out;
    check(v_->cancel_source(v_->self, str(study), str(file), str(drop_kind), str(reason), string_sink(out)),
          "the job queue failed");
  }
  std::string list(std::string_view kind, std::string_view state, uint32_t limit) const {
    std::string out;
    check(v_->list(v_->self, str(kind), str(state), limit, string_sink(out)), "the job queue failed");
    return out;
  }
  std::string counts() const {
    std::string out;
    check(v_->counts(v_->self, string_sink(out)), "the job queue failed");
    return out;
  }
  bool wait(uint32_t timeout_ms) const { return v_->wait(v_->self, timeout_ms) != 0; }
  void wake_all() const { v_->wake_all(v_->self); }
  // The number of finished jobs of `kind` (any when empty) forgotten.
  uint64_t prune(std::string_view kind, int64_t finished_before_ms) const {
    std::string out;
    check(v_->prune(v_->self, str(kind), finished_before_ms, string_sink(out)), "the job queue failed");
    return std::stoull(out.empty() ? "0" : out);
  }

 private:
  static bool still_ours(dicomd_status s) {
    if (s == DICOMD_E_NOT_FOUND) return false;
    check(s, "the job queue failed");
    return true;
  }
};

}  // namespace dicomd
