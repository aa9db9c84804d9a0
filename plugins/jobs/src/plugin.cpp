// jobs: background work on the shared job queue (dicomd.jobqueue, in the
// index database) — thumbnails rendered at ingest, which render-png then
// serves, and animations of a series or a multi-frame file as APNG, GIF or
// WebP (API.md Part 3, "Jobs"). Frames are rendered by render-png, whose
// decoders run in isolated workers; this plugin orders, encodes and stores.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <memory>

#include "animation_request.h"
#include "frames.h"
#include "runner.h"

namespace {

using dicomd::HttpError;
using dicomd::jobs::AnimationRequest;

struct Settings {
  dicomd::jobs::RunnerSettings runner;
  bool thumbnails = true;
  uint32_t thumbnail_size = 128;
  uint32_t max_attempts = 3;
};

// {"workers":2,"frame_parallelism":2,"lease_s":30,"poll_ms":1000,
//  "max_frames":1000,"max_attempts":3,"keep_finished_days":30,"thumbnails":true,
//  "thumbnail_size":128}
Settings parse_settings(std::string_view config) {
  dicomd::PluginConfig c(config);
  Settings s;
  uint64_t v = s.runner.workers;
  c.get_uint("workers", v, 0, 64);  // 0: this host queues and serves jobs, others run them
  s.runner.workers = static_cast<uint32_t>(v);
  v = s.runner.frame_parallelism;
  c.get_uint("frame_parallelism", v, 1, 32);
  s.runner.frame_parallelism = static_cast<uint32_t>(v);
  v = 30;
  c.get_uint("lease_s", v, 1, 3600);
  s.runner.lease_ms = static_cast<uint32_t>(v * 1000);
  v = s.runner.poll_ms;
  c.get_uint("poll_ms", v, 50, 60000);
  s.runner.poll_ms = static_cast<uint32_t>(v);
  v = s.runner.max_frames;
  c.get_uint("max_frames", v, 1, 10000);
  s.runner.max_frames = static_cast<uint32_t>(v);
  v = s.runner.keep_finished_days;
  c.get_uint("keep_finished_days", v, 0, 36500);
  s.runner.keep_finished_days = static_cast<uint32_t>(v);
  v = s.max_attempts;
  c.get_uint("max_attempts", v, 1, 20);
  s.max_attempts = static_cast<uint32_t>(v);
  c.get("thumbnails", s.thumbnails);
  v = s.thumbnail_size;
  c.get_uint("thumbnail_size", v, 16, 1024);
  s.thumbnail_size = static_cast<uint32_t>(v);
  c.finish();
  return s;
}

std::string owner_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return std::string(name) + ":" + std::to_string(getpid());
}

uint64_t job_id(const dicomd::Request& req) {
  std::string_view text = req.param("id").value_or("");
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id == 0)
    throw HttpError(400, "invalid job id");
  return id;
}

std::optional<std::string_view> study_and_file(const dicomd::Event& e, std::string& study, std::string& file) {
  rapidjson::Document d;
  d.Parse(e.payload.data(), e.payload.size());
  if (!d.IsObject() || !d.HasMember("study") || !d.HasMember("file") || !d["study"].IsString() || !d["file"].IsString())
    return std::nullopt;
  study = d["study"].GetString();
  file = d["file"].GetString();
  return study;
}

// The job as GET /jobs/ID shows it, from the queue's JSON.
std::string public_job(const std::string& queue_json, bool whole) {
  rapidjson::Document d;
  d.Parse(queue_json.data(), queue_json.size());
  if (!d.IsObject()) throw std::runtime_error("the job queue answered malformed JSON");
  uint64_t id = d["id"].GetUint64();
  std::string state = d["state"].GetString();
  dicomd::JsonWriter w;
  w.start_object();
  if (whole) w.key("success").boolean(true);
  w.key("id").uint(id).key("type").string(d["kind"].GetString());
  w.key("state").string(state);
  char progress[16];
  std::snprintf(progress, sizeof progress, "%.3g", static_cast<double>(d["progress"].GetInt64()) / 1000);
  w.key("progress").raw(progress);
  w.key("status").string("/jobs/" + std::to_string(id));
  if (state == "done" && d["result_size"].GetInt64() > 0) {
    w.key("result").string("/jobs/" + std::to_string(id) + "/result");
    w.key("result_type").string(d["result_type"].GetString()).key("result_size").integer(d["result_size"].GetInt64());
  }
  if (d["error"].GetStringLength()) w.key("error").string(d["error"].GetString());
  w.key("attempts").integer(d["attempts"].GetInt64()).key("max_attempts").integer(d["max_attempts"].GetInt64());
  if (d["owner"].GetStringLength()) w.key("worker").string(d["owner"].GetString());
  w.key("created_ms").integer(d["created"].GetInt64());
  if (d["started"].GetInt64()) w.key("started_ms").integer(d["started"].GetInt64());
  if (d["finished"].GetInt64()) w.key("finished_ms").integer(d["finished"].GetInt64());
  if (whole && d.HasMember("params")) {
    // The request as given; the resolved file list stays internal.
    auto& params = d["params"];
    if (params.IsObject() && params.HasMember("files")) params.RemoveMember("files");
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    params.Accept(writer);
    w.key("request").raw(std::string_view(buffer.GetString(), buffer.GetSize()));
  }
  w.end_object();
  return std::string(w.text());
}

class JobsPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "jobs";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "background jobs: thumbnails at ingest, animated series";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array kRequires{
      dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}, dicomd_service_ref{DICOMD_INDEX_SERVICE, 1, 0},
      dicomd_service_ref{DICOMD_METADATA_SERVICE, 1, 0}, dicomd_service_ref{DICOMD_RENDER_SERVICE, 1, 0},
      dicomd_service_ref{DICOMD_JOBQUEUE_SERVICE, 1, 0}};
  static void check_config(std::string_view config) { parse_settings(config); }
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"POST", "/jobs", dicomd::route<&JobsPlugin::submit>},
        dicomd_route{"GET", "/jobs", dicomd::route<&JobsPlugin::list>},
        dicomd_route{"GET", "/jobs/:id", dicomd::route<&JobsPlugin::status>},
        dicomd_route{"GET", "/jobs/:id/result", dicomd::route<&JobsPlugin::result>},
        dicomd_route{"DELETE", "/jobs/:id", dicomd::route<&JobsPlugin::cancel>},
    };
  }
  static constexpr auto route_media_types() {
    return std::array<const char*, 5>{"application/json", nullptr, nullptr, nullptr, nullptr};
  }

  static constexpr auto route_docs() {
    return std::array<const char*, 5>{
        R"json({"summary": "Queue an animation of a series or a multi-frame file",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
              "required": ["type", "study"],
              "properties": {"type": {"const": "animate"}, "study": {"type": "string"},
                "series": {"type": "string", "description": "a SeriesInstanceUID (or give file)"},
                "file": {"type": "string"},
                "format": {"type": "string", "enum": ["apng", "gif", "webp"], "default": "gif"},
                "fps": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                "size": {"type": "integer", "minimum": 16, "maximum": 1024, "default": 256},
                "window": {"type": "string", "description": "CENTER,WIDTH"}}}}}},
            "responses": {"202": {"description": "{\"success\":true,\"job\":ID,\"status\":\"/jobs/ID\",\"created\":bool}; Location: /jobs/ID"},
                          "400": {"description": "a bad member, or more frames than max_frames"},
                          "404": {"description": "study, file or series not found"},
                          "422": {"description": "the file has no image"}}})json",
        R"json({"summary": "Recent jobs, newest first",
            "parameters": [
              {"name": "type", "in": "query", "schema": {"type": "string", "enum": ["animate", "thumbnail"]}},
              {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]}},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
            "responses": {"200": {"description": "{\"success\":true,\"jobs\":[…]}"}}})json",
        R"json({"summary": "A job's state and progress",
            "responses": {"200": {"description": "{\"state\":\"queued|running|done|failed|cancelled\",\"progress\":0..1,\"result\":\"/jobs/ID/result\",…}"},
                          "404": {"description": "job not found"}}})json",
        R"json({"summary": "A done job's image",
            "parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the image (image/apng, image/gif, image/webp or image/png)"},
                          "304": {"description": "unchanged since the ETag given"},
                          "404": {"description": "job not found"},
                          "409": {"description": "the job is not done"}}})json",
        R"json({"summary": "Cancel a queued or running job, or forget a finished one and its result",
            "responses": {"200": {"description": "{\"success\":true,\"cancelled\":bool,\"deleted\":bool}"},
                          "404": {"description": "job not found"}}})json",
    };
  }

  JobsPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(config)),
        services_{dicomd::Storage(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1)),
                  dicomd::Index(host.acquire<dicomd_index_v1>(DICOMD_INDEX_SERVICE, 1)),
                  dicomd::Metadata(host.acquire<dicomd_metadata_v1>(DICOMD_METADATA_SERVICE, 1)),
                  dicomd::Render(host.acquire<dicomd_render_v1>(DICOMD_RENDER_SERVICE, 1)),
                  dicomd::JobQueue(host.acquire<dicomd_jobqueue_v1>(DICOMD_JOBQUEUE_SERVICE, 1))} {
    if (!services_.storage || !services_.index || !services_.metadata || !services_.render || !services_.queue)
      throw std::runtime_error("jobs needs storage, index (index-sqlite or index-postgres), metadata and render");
    if (!services_.render.can_tag()) throw std::runtime_error("jobs needs render-png 0.2 or later (ABI 1.8)");
    settings_.runner.owner = owner_name();
    finished_ =
        host.counter("dicomd_jobs_finished_total",
                     "Job attempts this host ended, by result (done, failed, retried, lost, released).", "result");
    subscribe("stored", [this](const dicomd::Event& e) { on_stored(e); });
    subscribe("removed", [this](const dicomd::Event& e) { on_removed(e); });
    collect_metrics([this, jobs = host.gauge("dicomd_jobs", "Jobs in the shared queue, by state.", "state")] {
      rapidjson::Document d;
      std::string counts = services_.queue.counts();
      d.Parse(counts.data(), counts.size());
      if (d.IsObject())
        for (auto m = d.MemberBegin(); m < d.MemberEnd(); ++m)  // < : see animation_request.cpp
          jobs.set(static_cast<double>(m->value.GetInt64()), m->name.GetString());
    });
  }

  void on_start() override {
    runner_ = std::make_unique<dicomd::jobs::JobRunner>(host(), services_, settings_.runner, finished_);
    runner_->start();
  }
  void on_stop() override {
    if (runner_) runner_->stop();
  }

  // POST /jobs {"type":"animate",...}
  void submit(const dicomd::Request& req, dicomd::Response& res) {
    AnimationRequest request = dicomd::jobs::parse_animation_request(req.body());
    auto files = dicomd::jobs::source_files(request, services_.storage, services_.index, services_.metadata,
                                            settings_.runner.max_frames);
    // params: the request's members and the files it reads.
    std::string request_params = request.params_json();
    dicomd::JsonWriter file_list;
    file_list.strings(files);
    std::string params =
        request_params.substr(0, request_params.size() - 1) + ",\"files\":" + std::string(file_list.text()) + "}";
    dicomd::JsonWriter job;
    job.start_object().key("kind").string("animate").key("key").string(request.dedup_key());
    job.key("max_attempts").uint(settings_.max_attempts).key("params").raw(params).key("sources").start_array();
    for (const auto& f : files) job.start_array().string(request.study).string(f).end_array();
    job.end_array().end_object();
    std::string submitted = services_.queue.submit(job.text());
    rapidjson::Document answer;
    answer.Parse(submitted.data(), submitted.size());
    uint64_t id = answer["id"].GetUint64();
    std::string where = "/jobs/" + std::to_string(id);
    res.header("Location", where);
    dicomd::JsonWriter w;
    w.start_object().key("success").boolean(true).key("job").uint(id).key("status").string(where);
    w.key("created").boolean(answer["created"].GetBool()).end_object();
    res.json(202, w.text());
  }

  // GET /jobs?type=&state=&limit=
  void list(const dicomd::Request& req, dicomd::Response& res) {
    std::string_view type = req.query("type").value_or(""), state = req.query("state").value_or("");
    if (!type.empty() && type != "animate" && type != "thumbnail")
      throw HttpError(400, "type must be animate or thumbnail");
    if (!state.empty() && state != "queued" && state != "running" && state != "done" && state != "failed" &&
        state != "cancelled")
      throw HttpError(400, "state must be queued, running, done, failed or cancelled");
    uint64_t limit = 100;
    if (auto l = req.query("limit")) {
      auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc() || end != l->data() + l->size() || limit < 1 || limit > 1000)
        throw HttpError(400, "limit must be from 1 to 1000");
    }
    std::string listed = services_.queue.list(type, state, static_cast<uint32_t>(limit));
    rapidjson::Document d;
    d.Parse(listed.data(), listed.size());
    std::string out = "{\"success\":true,\"jobs\":[";
    bool first = true;
    for (const auto& j : d["jobs"].GetArray()) {
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      j.Accept(writer);
      out += first ? "" : ",";
      out += public_job(buffer.GetString(), false);
      first = false;
    }
    res.json(200, out + "]}");
  }

  // GET /jobs/:id
  void status(const dicomd::Request& req, dicomd::Response& res) {
    auto job = services_.queue.get(job_id(req));
    if (!job) throw HttpError(404, "job not found");
    res.json(200, public_job(*job, true));
  }

  // GET /jobs/:id/result
  void result(const dicomd::Request& req, dicomd::Response& res) {
    uint64_t id = job_id(req);
    auto job = services_.queue.get(id);
    if (!job) throw HttpError(404, "job not found");
    rapidjson::Document d;
    d.Parse(job->data(), job->size());
    std::string state = d["state"].GetString();
    if (state != "done") throw HttpError(409, "the job is " + state + "; it has no result");
    // The result of one completion never changes: its job and claim name it.
    if (res.not_modified(req, "\"job-" + std::string(d["result_tag"].GetString()) + "\"")) return;
    auto stored = services_.queue.result(id);
    if (!stored) throw HttpError(409, "the job has no result");
    res.send(200, stored->content_type, stored->body);
  }

  // DELETE /jobs/:id
  void cancel(const dicomd::Request& req, dicomd::Response& res) {
    uint64_t id = job_id(req);
    auto job = services_.queue.get(id);
    if (!job) throw HttpError(404, "job not found");
    bool pending = job->find("\"state\":\"queued\"") != std::string::npos ||
                   job->find("\"state\":\"running\"") != std::string::npos;
    if (!services_.queue.cancel(id)) throw HttpError(404, "job not found");
    res.json(200, pending ? R"({"success":true,"cancelled":true,"deleted":false})"
                          : R"({"success":true,"cancelled":false,"deleted":true})");
  }

 private:
  // A stored file: the jobs that read its former version are cancelled (and
  // its old thumbnail dropped), and its thumbnail is queued.
  void on_stored(const dicomd::Event& e) {
    std::string study, file;
    if (!study_and_file(e, study, file)) return;
    services_.queue.cancel_source(study, file, "thumbnail", "a source file was replaced");
    if (!settings_.thumbnails) return;
    dicomd_render_options options{sizeof(dicomd_render_options), 0, settings_.thumbnail_size, 8, 0, 0, 0};
    std::string etag;
    try {
      etag = services_.render.etag(study, file, options);
    } catch (const dicomd::ServiceError& e) {
      if (e.code == DICOMD_E_NOT_FOUND) return;  // removed again already
      throw;
    }
    dicomd::JsonWriter params;
    params.start_object().key("study").string(study).key("file").string(file);
    params.key("size").uint(settings_.thumbnail_size).key("etag").string(etag).end_object();
    dicomd::JsonWriter job;
    job.start_object().key("kind").string("thumbnail").key("key").string(etag).key("priority").integer(10);
    job.key("max_attempts").uint(settings_.max_attempts).key("params").raw(params.text());
    job.key("sources").start_array().start_array().string(study).string(file).end_array().end_array();
    job.end_object();
    services_.queue.submit(job.text());
  }

  void on_removed(const dicomd::Event& e) {
    std::string study, file;
    if (study_and_file(e, study, file))
      services_.queue.cancel_source(study, file, "thumbnail", "a source file was removed");
  }

  Settings settings_;
  dicomd::jobs::Services services_;
  dicomd::Metric finished_;
  std::unique_ptr<dicomd::jobs::JobRunner> runner_;
};

}  // namespace

DICOMD_PLUGIN(JobsPlugin)
