#include "runner.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <random>

#include "animation/encoder.h"
#include "animation_request.h"
#include "frames.h"

namespace dicomd::jobs {
namespace {

using Clock = std::chrono::steady_clock;

// Bad input: the job fails at once, whatever attempts remain.
struct PermanentFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The job is no longer this worker's (cancelled, or its lease was taken over).
struct LostJob {};
// This host is stopping: the job goes back to the queue.
struct Stopping {};

std::optional<ClaimedJob> parse_claim(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (!d.IsObject() || !d["id"].IsUint64() || !d["token"].IsUint64() || !d["kind"].IsString()) return std::nullopt;
  ClaimedJob job;
  job.id = d["id"].GetUint64();
  job.token = d["token"].GetUint64();
  job.attempt = d["attempt"].IsUint() ? d["attempt"].GetUint() : 1;
  job.kind = d["kind"].GetString();
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  d["params"].Accept(writer);
  job.params.assign(buffer.GetString(), buffer.GetSize());
  return job;
}

dicomd_render_options render_options(uint32_t size, const std::optional<std::pair<double, double>>& window,
                                     uint32_t frame = 0) {
  dicomd_render_options o{sizeof(dicomd_render_options), frame, size, 8, 0, 0, 0};
  if (window) {
    o.has_window = 1;
    o.window_center = window->first;
    o.window_width = window->second;
  }
  return o;
}

// Whether a service failure is the input's fault (no retry helps).
bool is_permanent(dicomd_status code) {
  return code == DICOMD_E_NOT_FOUND || code == DICOMD_E_UNSUPPORTED || code == DICOMD_E_INVALID;
}

}  // namespace

uint32_t retry_delay_ms(uint32_t attempt) {
  uint32_t base = 1000u << std::min<uint32_t>(attempt > 0 ? attempt - 1 : 0, 6);
  base = std::min<uint32_t>(base, 60000);
  thread_local std::mt19937 rng{std::random_device{}()};
  return base + std::uniform_int_distribution<uint32_t>(0, base / 4)(rng);
}

// Renews the job's lease as the job reports progress: at most every
// lease/3 (and every second at most), so a host that dies loses the job
// within one lease. Throws LostJob when the job is no longer ours.
class LeaseKeeper {
 public:
  LeaseKeeper(const JobQueue& queue, const ClaimedJob& job, uint32_t lease_ms, const std::atomic<bool>& stopping)
      : queue_(queue),
        job_(job),
        lease_ms_(lease_ms),
        every_(std::chrono::milliseconds(std::min<uint32_t>(lease_ms / 3, 1000))),
        stopping_(stopping) {}

  // progress: 0..1000.
  void report(uint32_t progress, bool force = false) {
    if (stopping_) throw Stopping{};
    auto now = Clock::now();
    if (!force && now - last_ < every_) return;
    last_ = now;
    if (!queue_.renew(job_.id, job_.token, progress, lease_ms_)) throw LostJob{};
  }

 private:
  const JobQueue& queue_;
  const ClaimedJob& job_;
  uint32_t lease_ms_;
  Clock::duration every_;
  const std::atomic<bool>& stopping_;
  Clock::time_point last_ = Clock::now();
};

JobRunner::JobRunner(Host host, Services services, RunnerSettings settings, Metric finished)
    : host_(host), services_(std::move(services)), settings_(std::move(settings)), finished_(finished) {}

JobRunner::~JobRunner() {
  stop();
}

void JobRunner::start() {
  for (uint32_t i = 0; i < settings_.workers; ++i) threads_.emplace_back([this] { work(); });
}

void JobRunner::stop() {
  stopping_ = true;
  if (services_.queue) services_.queue.wake_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void JobRunner::prune_when_due() {
  if (!settings_.keep_finished_days) return;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  int64_t due = next_prune_ms_;
  if (now < due || !next_prune_ms_.compare_exchange_strong(due, now + 3600 * 1000)) return;
  try {
    uint64_t forgotten = services_.queue.prune("animate", now - int64_t{settings_.keep_finished_days} * 86400 * 1000);
    if (forgotten)
      host_.info("jobs: forgot " + std::to_string(forgotten) + " animations finished more than " +
                 std::to_string(settings_.keep_finished_days) + " days ago");
  } catch (const std::exception& e) {  // tried again in an hour
    host_.warn(std::string("jobs: cannot forget old jobs: ") + e.what());
  }
}

void JobRunner::work() {
  while (!stopping_) {
    prune_when_due();
    std::optional<std::string> claimed;
    try {
      claimed = services_.queue.claim(settings_.owner, settings_.lease_ms);
    } catch (const std::exception& e) {  // the database is unreachable: look again later
      host_.warn(std::string("jobs: cannot claim a job: ") + e.what());
    }
    if (!claimed) {
      services_.queue.wait(settings_.poll_ms);
      continue;
    }
    if (auto job = parse_claim(*claimed)) run(*job);
  }
}

void JobRunner::run(const ClaimedJob& job) {
  const JobQueue& queue = services_.queue;
  LeaseKeeper lease(queue, job, settings_.lease_ms, stopping_);
  auto end_with = [&](std::string_view result, auto&& end) {
    try {
      if (!end()) result = "lost";
      finished_.add(1, result);
    } catch (const std::exception& e) {  // its lease will expire and the job will be run again
      host_.warn(std::string("jobs: cannot record the end of job ") + std::to_string(job.id) + ": " + e.what());
    }
  };
  try {
    std::string result;
    std::string_view type;
    if (job.kind == "thumbnail") {
      result = thumbnail(job);
      type = "image/png";
    } else if (job.kind == "animate") {
      result = animate(job, lease);
      type = media_type_of(animation_from_params(job.params).format);
    } else {
      throw PermanentFailure("unknown job kind \"" + job.kind + "\"");
    }
    end_with("done", [&] { return queue.complete(job.id, job.token, type, result); });
  } catch (const LostJob&) {
    finished_.add(1, "lost");
  } catch (const Stopping&) {
    end_with("released", [&] { return queue.fail(job.id, job.token, "", 0, true); });
  } catch (const PermanentFailure& e) {
    end_with("failed", [&] { return queue.fail(job.id, job.token, e.what(), 0); });
  } catch (const ServiceError& e) {
    if (is_permanent(e.code))
      end_with("failed", [&] { return queue.fail(job.id, job.token, e.what(), 0); });
    else
      end_with("retried", [&] { return queue.fail(job.id, job.token, e.what(), retry_delay_ms(job.attempt)); });
  } catch (const HttpError& e) {  // the frames' checks: 404, 422, 400
    end_with("failed", [&] { return queue.fail(job.id, job.token, e.what(), 0); });
  } catch (const std::exception& e) {  // the database, memory: try again later
    end_with("retried", [&] { return queue.fail(job.id, job.token, e.what(), retry_delay_ms(job.attempt)); });
  }
}

// params {"study","file","size","etag"}: the PNG render-png answers for
// ?size=N, stored under its ETag.
std::string JobRunner::thumbnail(const ClaimedJob& job) {
  rapidjson::Document d;
  d.Parse(job.params.data(), job.params.size());
  if (!d.IsObject() || !d["study"].IsString() || !d["file"].IsString() || !d["size"].IsUint() || !d["etag"].IsString())
    throw PermanentFailure("malformed thumbnail params");
  std::string study = d["study"].GetString(), file = d["file"].GetString();
  auto options = render_options(d["size"].GetUint(), std::nullopt);
  std::string png;
  try {
    png = services_.render.png(study, file, options);
  } catch (const ServiceError& e) {
    if (e.code == DICOMD_E_UNSUPPORTED) throw PermanentFailure("the file has no image that can be rendered");
    throw;
  }
  // The file replaced meanwhile: its own thumbnail job was queued by then.
  if (services_.render.etag(study, file, options) != d["etag"].GetString())
    throw PermanentFailure("the file changed while its thumbnail was made");
  return png;
}

// params: an AnimationRequest and "files". Progress: 0-10 % ordering the
// files, 10-95 % rendering and encoding, then the result.
std::string JobRunner::animate(const ClaimedJob& job, LeaseKeeper& lease) {
  AnimationRequest request = animation_from_params(job.params);
  std::vector<std::string> files;
  {
    rapidjson::Document d;
    d.Parse(job.params.data(), job.params.size());
    if (d.IsObject() && d.HasMember("files") && d["files"].IsArray())
      for (const auto& f : d["files"].GetArray())
        if (f.IsString()) files.emplace_back(f.GetString());
  }
  if (files.empty()) throw PermanentFailure("the job names no files");
  auto frames = ordered_frames(request, files, services_.metadata,
                               [&](size_t done) { lease.report(static_cast<uint32_t>(100 * done / files.size())); });
  if (frames.size() > settings_.max_frames)
    throw PermanentFailure("the animation has " + std::to_string(frames.size()) + " frames; at most " +
                           std::to_string(settings_.max_frames) + " are shown");

  auto encoder = make_encoder(request.format, static_cast<uint32_t>(frames.size()), request.fps);
  const bool decode = needs_pixels(request.format);
  // One render, retried while the renderers are busy (they serve users first).
  auto render = [this, &request, decode](const FrameRef& ref) {
    Frame frame;
    for (int busy = 0;; ++busy) {
      try {
        frame.png =
            services_.render.png(request.study, ref.file, render_options(request.size, request.window, ref.frame));
        break;
      } catch (const ServiceError& e) {
        if (e.code == DICOMD_E_UNAVAILABLE && busy < 50) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        if (is_permanent(e.code))
          throw PermanentFailure(ref.file + (request.file.empty() ? "" : " frame " + std::to_string(ref.frame)) + ": " +
                                 e.what());
        throw;
      }
    }
    try {
      inspect_png(frame, decode);
    } catch (const std::runtime_error& e) {
      throw PermanentFailure(e.what());
    }
    return frame;
  };

  std::deque<std::future<Frame>> in_flight;
  size_t next = 0;
  uint32_t width = 0, height = 0, channels = 0;
  for (size_t shown = 0; shown < frames.size(); ++shown) {
    while (next < frames.size() && in_flight.size() < settings_.frame_parallelism)
      in_flight.push_back(std::async(std::launch::async, render, std::cref(frames[next++])));
    Frame frame = in_flight.front().get();  // rethrows the render's failure
    in_flight.pop_front();
    if (shown == 0) {
      width = frame.width, height = frame.height, channels = frame.channels;
    } else if (frame.width != width || frame.height != height || frame.channels != channels) {
      // Another shape even after fitting into size x size: refused, not
      // distorted (docs/api.md).
      throw PermanentFailure("the series mixes image shapes (" + std::to_string(width) + "x" + std::to_string(height) +
                             " and " + std::to_string(frame.width) + "x" + std::to_string(frame.height) + " at " +
                             frames[shown].file + "); an animation needs one");
    }
    try {
      encoder->add(frame);
    } catch (const std::runtime_error& e) {
      throw PermanentFailure(e.what());
    }
    lease.report(static_cast<uint32_t>(100 + 850 * (shown + 1) / frames.size()));
  }
  try {
    return encoder->finish();
  } catch (const std::runtime_error& e) {
    throw PermanentFailure(e.what());
  }
}

}  // namespace dicomd::jobs
