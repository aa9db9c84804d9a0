#include "frames.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <dicomd/cpp/json.hpp>

namespace dicomd::jobs {
namespace {

// The values of describe()'s answer, in the order asked.
struct Tags {
  rapidjson::Document doc;
  const rapidjson::Value* value(size_t i) const {
    if (!doc.IsArray() || i >= doc.Size()) return nullptr;
    auto it = doc[static_cast<rapidjson::SizeType>(i)].FindMember("value");
    return it == doc[static_cast<rapidjson::SizeType>(i)].MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
  }
  std::optional<double> number(size_t i) const {
    const auto* v = value(i);
    if (v && v->IsNumber()) return v->GetDouble();
    if (v && v->IsArray() && !v->Empty() && (*v)[0].IsNumber()) return (*v)[0].GetDouble();
    return std::nullopt;
  }
  std::vector<double> numbers(size_t i) const {
    std::vector<double> out;
    const auto* v = value(i);
    if (v && v->IsArray())
      for (const auto& n : v->GetArray())
        if (n.IsNumber()) out.push_back(n.GetDouble());
    return out;
  }
};

Tags describe(const Metadata& metadata, std::string_view study, std::string_view file,
              const std::vector<std::string_view>& tags) {
  Tags t;
  std::string json = metadata.describe(study, file, tags);
  t.doc.Parse(json.data(), json.size());
  return t;
}

struct Slice {
  std::string file;
  double instance = std::numeric_limits<double>::infinity();  // absent: last
  double position = 0;
};

// The study's files of the series, through the index (paged).
std::vector<std::string> series_files(const AnimationRequest& r, const Index& index, uint32_t max_frames) {
  constexpr uint32_t kPage = 500;
  std::vector<std::string> files;
  for (uint64_t offset = 0;; offset += kPage) {
    JsonWriter q;
    q.start_object().key("level").string("instance").key("filters").start_object();
    q.key("study").string(r.study).key("SeriesInstanceUID").string(r.series).end_object();
    q.key("limit").uint(kPage).key("offset").uint(offset).end_object();
    std::string answer = index.search(q.text());
    rapidjson::Document d;
    d.Parse(answer.data(), answer.size());
    if (!d.IsObject() || !d.HasMember("results") || !d["results"].IsArray()) throw HttpError(500, "the index failed");
    if (d.HasMember("total") && d["total"].IsUint64() && d["total"].GetUint64() > max_frames)
      throw HttpError(400, "the series has " + std::to_string(d["total"].GetUint64()) +
                               " instances; an animation shows at most " + std::to_string(max_frames));
    for (const auto& row : d["results"].GetArray()) {
      if (!row.HasMember("study") || !row.HasMember("file") || !row["study"].IsString() || !row["file"].IsString())
        continue;
      // The index matches names with wildcards: keep this very study.
      if (std::string_view(row["study"].GetString()) == r.study) files.emplace_back(row["file"].GetString());
    }
    if (d["results"].Size() < kPage) break;
  }
  return files;
}

}  // namespace

std::vector<std::string> source_files(const AnimationRequest& r, const Storage& storage, const Index& index,
                                      const Metadata& metadata, uint32_t max_frames) {
  storage.list_files(r.study);  // 404 "study not found"
  if (!r.file.empty()) {
    storage.stat(r.study, r.file);  // 404 "file not found"
    Tags t = describe(metadata, r.study, r.file, {"Rows", "NumberOfFrames"});
    if (!t.number(0)) throw HttpError(422, "the file has no image");
    double frames = t.number(1).value_or(1);
    if (frames > max_frames)
      throw HttpError(400, "the file has " + std::to_string(static_cast<uint64_t>(frames)) +
                               " frames; an animation shows at most " + std::to_string(max_frames));
    return {r.file};
  }
  auto files = series_files(r, index, max_frames);
  if (files.empty()) throw HttpError(404, "series not found");
  return files;
}

std::vector<FrameRef> ordered_frames(const AnimationRequest& r, const std::vector<std::string>& files,
                                     const Metadata& metadata, const std::function<void(size_t)>& checked) {
  std::vector<FrameRef> frames;
  if (!r.file.empty()) {
    Tags t = describe(metadata, r.study, r.file, {"Rows", "NumberOfFrames"});
    if (!t.number(0)) throw HttpError(422, "the file has no image");
    auto count = static_cast<uint32_t>(std::max(1.0, t.number(1).value_or(1)));
    for (uint32_t i = 0; i < count; ++i) frames.push_back({r.file, i});
    checked(1);
    return frames;
  }
  std::vector<Slice> slices;
  for (size_t i = 0; i < files.size(); ++i) {
    Tags t = describe(metadata, r.study, files[i],
                      {"Rows", "InstanceNumber", "ImagePositionPatient", "ImageOrientationPatient"});
    checked(i + 1);
    if (!t.number(0)) continue;  // no image (a report in the series): not a frame
    Slice s{files[i]};
    if (auto n = t.number(1)) s.instance = *n;
    auto position = t.numbers(2), orientation = t.numbers(3);
    if (position.size() == 3) {
      double normal[3] = {0, 0, 1};
      if (orientation.size() == 6) {
        normal[0] = orientation[1] * orientation[5] - orientation[2] * orientation[4];
        normal[1] = orientation[2] * orientation[3] - orientation[0] * orientation[5];
        normal[2] = orientation[0] * orientation[4] - orientation[1] * orientation[3];
      }
      s.position = position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2];
    }
    slices.push_back(std::move(s));
  }
  if (slices.empty()) throw HttpError(422, "no instance of the series has an image");
  std::sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
    if (a.instance != b.instance) return a.instance < b.instance;
    if (a.position != b.position) return a.position < b.position;
    return a.file < b.file;
  });
  for (auto& s : slices) frames.push_back({std::move(s.file), 0});
  return frames;
}

}  // namespace dicomd::jobs
