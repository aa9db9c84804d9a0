// WADO-RS (PS3.18 10.4): instances as stored, their metadata from the
// metadata service's header cache, frames and bulk data as stored.
#include <charconv>
#include <random>

#include <rapidjson/document.h>

#include "echo.h"
#include "dicom_json.h"
#include "dicomweb.h"
#include "frames.h"
#include "meta_header.h"
#include "multipart.h"
#include "negotiation.h"

namespace dicomd::dicomweb {
namespace {

constexpr uint64_t kPage = 1000;

std::string new_boundary() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random()));
  return std::string("dicomd-") + hex;
}

std::string multipart_type(std::string_view part_type, const std::string& boundary) {
  return "multipart/related; type=\"" + std::string(part_type) + "\"; boundary=" + boundary;
}

std::string member(const rapidjson::Value& r, const char* k) {
  return r.HasMember(k) && r[k].IsString() ? std::string(r[k].GetString(), r[k].GetStringLength()) : std::string();
}

// "1,3,5" -> {1,3,5}: 1-based, each within the file's frames.
std::vector<uint32_t> parse_frame_list(std::string_view list) {
  std::vector<uint32_t> out;
  while (true) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || n == 0)
      throw HttpError(400, "frame numbers are whole numbers from 1, separated by commas");
    out.push_back(n);
    if (out.size() > 10000) throw HttpError(400, "at most 10000 frames in one request");
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::vector<InstanceRef> DicomWeb::instances_of(const Request& req) const {
  JsonWriter filters;
  filters.start_object();
  const std::pair<const char*, const char*> path_keys[] = {
      {"study", "StudyInstanceUID"}, {"series", "SeriesInstanceUID"}, {"instance", "SOPInstanceUID"}};
  std::string_view deepest = "study";
  for (auto [param, keyword] : path_keys)
    if (auto p = req.param(param)) {
      if (!is_uid(*p)) throw HttpError(400, std::string("the ") + param + " in the path is not a UID");
      filters.key(keyword).string(*p);
      deepest = param;
    }
  filters.end_object();
  std::vector<InstanceRef> out;
  for (uint64_t offset = 0;; offset += kPage) {
    JsonWriter q;
    q.start_object().key("level").string("instance").key("filters").raw(filters.text());
    q.key("limit").uint(kPage).key("offset").uint(offset);
    q.key("orderby").start_array().string("SeriesNumber").string("InstanceNumber").end_array().end_object();
    std::string answer = s_.index.search(q.text());
    rapidjson::Document d;
    d.Parse(answer.data(), answer.size());
    if (!d.IsObject() || !d.HasMember("results") || !d["results"].IsArray()) throw HttpError(500, "the index failed");
    for (const auto& r : d["results"].GetArray()) {
      InstanceRef ref{member(r, "study"),
                      member(r, "file"),
                      member(r, "StudyInstanceUID"),
                      member(r, "SeriesInstanceUID"),
                      member(r, "SOPInstanceUID"),
                      member(r, "SOPClassUID")};
      // Two stored files of one SOP instance (two dicomd studies) are one
      // DICOMweb instance: the first is served.
      if (!out.empty() && out.back().sop_uid == ref.sop_uid && out.back().series_uid == ref.series_uid) continue;
      out.push_back(std::move(ref));
    }
    if (d["results"].Size() < kPage) break;
  }
  if (out.empty()) throw HttpError(404, std::string("no such ") + std::string(deepest) + " is stored");
  return out;
}

void DicomWeb::retrieve(const Request& req, Response& res) {
  settings_.cors.add_headers(req, res);
  auto accept = parse_accept(req.header("accept"));
  if (!accept) throw HttpError(400, "malformed Accept header");
  auto instances = instances_of(req);
  // A study can be gigabytes: written once, into an in-memory file the
  // host sends as the client reads, rather than a string copied again.
  common::MemFile file("dicomweb-retrieve");
  MultipartWriter writer(new_boundary(), file.ok() ? &file : nullptr);
  std::vector<std::string> syntaxes;
  for (const auto& i : instances) {
    s_.storage.read(i.study, i.file, [&](std::string_view bytes) {
      auto meta = gdcm_support::read_meta_header(bytes);
      std::string ts = meta ? meta->transfer_syntax : "";
      if (std::find(syntaxes.begin(), syntaxes.end(), ts) == syntaxes.end()) syntaxes.push_back(ts);
      writer.begin_part("application/dicom; transfer-syntax=" + ts);
      writer.add_data(bytes);
    });
  }
  auto wanted = accepts_multipart(*accept, "application/dicom", "application/dicom", syntaxes);
  if (!wanted || (!wanted->empty() && *wanted != "*" && syntaxes.size() > 1))
    throw HttpError(406,
                    "instances are sent as stored, as multipart/related; type=\"application/dicom\" "
                    "(transfer-syntax=* or the stored one)");
  std::string body = writer.finish();
  std::string type = multipart_type("application/dicom", writer.boundary());
  if (!file.ok()) {
    res.send(200, type, body);
    return;
  }
  if (!writer.ok() || !file.seal()) throw HttpError(503, "no memory for the answer; ask for fewer instances");
  res.send_file(200, type, file.release(), 0, writer.size());
}

void DicomWeb::metadata(const Request& req, Response& res) {
  settings_.cors.add_headers(req, res);
  auto accept = parse_accept(req.header("accept"));
  if (!accept) throw HttpError(400, "malformed Accept header");
  auto type = choose_single(*accept, {"application/dicom+json", "application/json"});
  if (!type) throw HttpError(406, "metadata is answered as application/dicom+json only");
  auto instances = instances_of(req);
  std::string base = base_url(req);
  std::string out = "[";
  for (const auto& i : instances) {
    std::string tags = s_.metadata.describe(i.study, i.file);
    std::string bulk =
        base + "/studies/" + i.study_uid + "/series/" + i.series_uid + "/instances/" + i.sop_uid + "/bulk";
    auto json = metadata_to_dicom_json(tags, bulk);
    if (!json) throw HttpError(500, "the metadata service answered something else than a tag array");
    if (out.size() > 1) out += ',';
    out += *json;
  }
  out += ']';
  res.send(200, *type, out);
}

void DicomWeb::frames(const Request& req, Response& res) {
  settings_.cors.add_headers(req, res);
  auto accept = parse_accept(req.header("accept"));
  if (!accept) throw HttpError(400, "malformed Accept header");
  std::vector<uint32_t> wanted = parse_frame_list(req.param("frames").value_or(""));
  InstanceRef instance = instances_of(req).front();
  s_.storage.read(instance.study, instance.file, [&](std::string_view bytes) {
    PixelFrames pixels;
    FramesError error;
    if (!frames_of(bytes, pixels, error)) throw HttpError(error.status, error.reason);
    for (uint32_t n : wanted)
      if (n > pixels.count)
        throw HttpError(
            404, "frame " + std::to_string(n) + " is past the instance's " + std::to_string(pixels.count) + " frames");
    std::string part_type = "application/octet-stream";
    std::string part_content_type;
    if (!pixels.encapsulated) {
      const std::vector<std::string> syntaxes = {pixels.transfer_syntax, "1.2.840.10008.1.2.1"};
      if (!accepts_multipart(*accept, part_type, part_type, syntaxes))
        throw HttpError(406, "frames of this instance are multipart/related; type=\"application/octet-stream\"");
      part_content_type = "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1";
    } else {
      std::string native(frame_media_type(pixels.transfer_syntax));
      const std::vector<std::string> syntaxes = {pixels.transfer_syntax};
      // A range that names no part type (*/*, multipart/related alone)
      // takes the frames as stored: decompressing is the viewer's job.
      if (accepts_multipart(*accept, native, native, syntaxes)) {
        part_type = native;
      } else if (auto ts = accepts_multipart(*accept, part_type, part_type, syntaxes); !ts || ts->empty()) {
        throw HttpError(406, "frames of this instance are stored compressed (transfer syntax " +
                                 echo(pixels.transfer_syntax) + "): ask for type=\"" + native +
                                 "\" or transfer-syntax=*");
      }
      part_content_type = part_type + "; transfer-syntax=" + pixels.transfer_syntax;
    }
    MultipartWriter writer(new_boundary());
    for (uint32_t n : wanted) {
      writer.begin_part(part_content_type);
      for (auto piece : pixels.frames[n - 1]) writer.add_data(piece);
    }
    res.send(200, multipart_type(part_type, writer.boundary()), writer.finish());
  });
}

void DicomWeb::bulk(const Request& req, Response& res) {
  settings_.cors.add_headers(req, res);
  auto accept = parse_accept(req.header("accept"));
  if (!accept) throw HttpError(400, "malformed Accept header");
  std::string_view tag_text = req.param("tag").value_or("");
  uint32_t tag = 0;
  auto [end, ec] = std::from_chars(tag_text.data(), tag_text.data() + tag_text.size(), tag, 16);
  if (tag_text.size() != 8 || ec != std::errc() || end != tag_text.data() + tag_text.size())
    throw HttpError(400, "a bulk data tag is 8 hex digits (7FE00010)");
  InstanceRef instance = instances_of(req).front();
  s_.storage.read(instance.study, instance.file, [&](std::string_view bytes) {
    if (tag == 0x7FE00010) {
      // Pixel data: its frames, one part each, as /frames sends them.
      PixelFrames pixels;
      FramesError error;
      if (!frames_of(bytes, pixels, error)) throw HttpError(error.status, error.reason);
      std::string part_type = pixels.encapsulated ? std::string(frame_media_type(pixels.transfer_syntax))
                                                  : std::string("application/octet-stream");
      if (!accepts_multipart(*accept, part_type, part_type, {pixels.transfer_syntax}) &&
          !accepts_multipart(*accept, "application/octet-stream", "application/octet-stream", {pixels.transfer_syntax}))
        throw HttpError(406, "bulk data is multipart/related");
      MultipartWriter writer(new_boundary());
      for (const auto& frame : pixels.frames) {
        writer.begin_part(part_type + "; transfer-syntax=" + pixels.transfer_syntax);
        for (auto piece : frame) writer.add_data(piece);
      }
      res.send(200, multipart_type(part_type, writer.boundary()), writer.finish());
      return;
    }
    ScanError error;
    auto ds = scan_dataset(bytes, tag, error);
    if (!ds) throw HttpError(422, "the stored file cannot be read: " + error.reason);
    const ScannedElement* e = ds->find(tag);
    if (!e || e->length == kUndefinedLength) throw HttpError(404, "the instance has no such top-level bulk data");
    if (!accepts_multipart(*accept, "application/octet-stream", "application/octet-stream", {ds->transfer_syntax}))
      throw HttpError(406, "bulk data is multipart/related; type=\"application/octet-stream\"");
    MultipartWriter writer(new_boundary());
    writer.begin_part("application/octet-stream");
    writer.add_data(bytes.substr(e->value_offset, e->length));
    res.send(200, multipart_type("application/octet-stream", writer.boundary()), writer.finish());
  });
}

}  // namespace dicomd::dicomweb
